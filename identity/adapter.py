from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site

from .tasks import send_email


class AccountAdapter(DefaultAccountAdapter):
    """allauth, with its mails sent by the task worker instead of inside the request, and
    signed with the territory's name (account/email/base_message.txt)."""

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
