from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = _("Identity and territory")

    def import_models(self):
        super().import_models()
        # The notifications' tables live in their package and import nothing of identity.models:
        # loading them here (not from identity.models) keeps identity's modules free of cycles.
        import_module("identity.notifications.models")

    def ready(self):
        from allauth.account.signals import password_reset

        from .actions import lockout

        def unlock(sender, request, user, **kwargs):
            lockout.unlock_after_password_reset(account=user)

        password_reset.connect(
            unlock, dispatch_uid="identity.unlock_after_password_reset", weak=False
        )
