from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django import forms
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.utils.translation import gettext as _

from .actions import lockout
from .tasks import send_email


class AccountAdapter(DefaultAccountAdapter):
    """allauth, with its mails sent by the task worker instead of inside the request, and
    signed with the territory's name (account/email/base_message.txt); and the lock after
    repeated login failures (identity.actions.lockout)."""

    def pre_authenticate(self, request, **credentials) -> None:
        seconds = lockout.locked_for(email=credentials.get("email") or "")
        if seconds:
            minutes = -(-seconds // 60)
            raise forms.ValidationError(
                _(
                    "Logging in to this account is blocked for %(minutes)s more minute(s) after "
                    "too many wrong passwords. Choose a new password with “Forgot your "
                    "password?” to unlock it now."
                )
                % {"minutes": minutes},
                code="account_locked",
            )
        super().pre_authenticate(request, **credentials)

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None and credentials.get("email"):
            lockout.clear_login_failures(email=credentials["email"])
        return user

    def authentication_failed(self, request, **credentials) -> None:
        lockout.record_login_failure(email=credentials.get("email") or "", request=request)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        request = allauth_context.request
        context = {
            "territory_name": settings.SESAME_TERRITORY_NAME,
            "current_site": get_current_site(request) if request is not None else None,
            **context,
        }
        message = self.render_mail(template_prefix, email, context)
        html = next(
            (
                content
                for content, mime in getattr(message, "alternatives", [])
                if mime == "text/html"
            ),
            None,
        )
        send_email.enqueue(subject=message.subject, body=message.body, to=[email], html=html)
