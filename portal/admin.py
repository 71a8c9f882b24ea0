"""The portal's own admin pages and the libraries' models in the admin.

The legal pages of the footer are edited through portal.actions (no add or delete: there are
four, one per kind). The libraries' models are read-only: Sésame writes them through its own
pages (sign-in addresses and second factors through allauth's, staff roles as
identity.StaffRole rather than Django's groups), so that no admin page writes around an audited
action.

Imported first (portal is the first app): the libraries' admin modules are imported here so
that their registrations can be replaced."""

from allauth.account import admin as account_admin
from allauth.account.models import EmailAddress
from allauth.mfa import admin as mfa_admin
from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import admin as auth_admin  # noqa: F401 - registers Group, removed below
from django.contrib.auth.models import Group
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from identity.actions.staff import reset_second_factor
from identity.admin import ActionModelAdmin, ReadOnlyAdmin
from identity.errors import DomainError
from identity.models import User

from . import actions
from .models import LegalPage

admin.site.unregister(Group)  # roles are StaffRole rows, granted through identity's actions
admin.site.unregister(EmailAddress)
admin.site.unregister(Authenticator)


@admin.register(EmailAddress)
class EmailAddressAdmin(ReadOnlyAdmin, account_admin.EmailAddressAdmin):
    actions = ()  # "make verified" would write around allauth's confirmation


class ResetSecondFactorForm(forms.Form):
    reason = forms.CharField(
        label=_("Why, and how you made sure it is this person"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=200,
    )


@admin.register(Authenticator)
class AuthenticatorAdmin(ReadOnlyAdmin, mfa_admin.AuthenticatorAdmin):
    """Read-only, but for the one thing an administrator does here: a staff member who lost
    their second factor has it reset (identity.actions.staff.reset_second_factor, audited)."""

    actions = ["reset_second_factor"]

    @admin.action(description=_("Reset the second factor of these accounts (lost phone or key)"))
    def reset_second_factor(self, request, queryset):
        users = list(User.objects.filter(pk__in=queryset.values("user")).order_by("pk"))
        form = ResetSecondFactorForm(request.POST if "confirm" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = []
            for user in users:
                try:
                    reset_second_factor(
                        actor=request.user, user=user, reason=form.cleaned_data["reason"]
                    )
                except DomainError as error:
                    self.message_user(
                        request, f"{user.display_name} : {error.message}", messages.ERROR
                    )
                else:
                    done.append(user.display_name)
            if done:
                self.message_user(
                    request,
                    _(
                        "Second factor reset for %(names)s: "
                        "they set up a new one at their next sign-in."
                    )
                    % {"names": ", ".join(done)},
                    messages.SUCCESS,
                )
            return None
        return TemplateResponse(
            request,
            "admin/reset_second_factor.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Reset a second factor"),
                "accounts": users,
                "selected": queryset.values_list("pk", flat=True),
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(LegalPage)
class LegalPageAdmin(ActionModelAdmin):
    list_display = ["kind", "updated_at", "updated_by"]
    fields = ["kind", "body", "updated_at", "updated_by"]
    readonly_fields = ["kind", "updated_at", "updated_by"]
    actions = ()
    deletable = False  # four pages, one per kind: an empty text brings back the default

    def has_add_permission(self, request) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        saved = actions.update_legal_page(actor=request.user, kind=obj.kind, body=obj.body)
        obj.pk, obj.updated_at, obj.updated_by = saved.pk, saved.updated_at, saved.updated_by

    def save_related(self, request, form, formsets, change) -> None:
        pass  # no inlines, no many-to-many: the action above wrote everything
