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
        # Likewise the school structure (identity/schooling), which imports identity.models.
        import_module("identity.schooling.models")

    def ready(self):
        # The school structure's admin pages (identity.admin does not import them: no cycle).
        import_module("identity.schooling.admin")
