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
from django.contrib import admin
from django.contrib.auth import admin as auth_admin  # noqa: F401 - registers Group, removed below
from django.contrib.auth.models import Group

from identity.admin import ActionModelAdmin, ReadOnlyAdmin

from . import actions
from .models import LegalPage

admin.site.unregister(Group)  # roles are StaffRole rows, granted through identity's actions
admin.site.unregister(EmailAddress)
admin.site.unregister(Authenticator)


@admin.register(EmailAddress)
class EmailAddressAdmin(ReadOnlyAdmin, account_admin.EmailAddressAdmin):
    actions = ()  # "make verified" would write around allauth's confirmation


@admin.register(Authenticator)
class AuthenticatorAdmin(ReadOnlyAdmin, mfa_admin.AuthenticatorAdmin):
    actions = ()


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
