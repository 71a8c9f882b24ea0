"""The libraries' models in the admin, read-only: Sésame writes them through its own pages
(sign-in addresses and second factors through allauth's, staff roles as identity.StaffRole
rather than Django's groups), so that no admin page writes around an audited action.

Imported first (portal is the first app): the libraries' admin modules are imported here so
that their registrations can be replaced."""

from allauth.account import admin as account_admin
from allauth.account.models import EmailAddress
from allauth.mfa import admin as mfa_admin
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.auth import admin as auth_admin  # noqa: F401 - registers Group, removed below
from django.contrib.auth.models import Group

from identity.admin import ReadOnlyAdmin

admin.site.unregister(Group)  # roles are StaffRole rows, granted through identity's actions
admin.site.unregister(EmailAddress)
admin.site.unregister(Authenticator)


@admin.register(EmailAddress)
class EmailAddressAdmin(ReadOnlyAdmin, account_admin.EmailAddressAdmin):
    actions = ()  # "make verified" would write around allauth's confirmation


@admin.register(Authenticator)
class AuthenticatorAdmin(ReadOnlyAdmin, mfa_admin.AuthenticatorAdmin):
    actions = ()
