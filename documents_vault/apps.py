from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsVaultConfig(AppConfig):
    name = "documents_vault"
    verbose_name = _("Residents' documents")

    def ready(self) -> None:
        from . import intake

        # Uploads into the safe get its size limit and file-name check while being received.
        for view_name in ("documents_vault:add", "documents_vault:replace", "api:vault_upload"):
            intake.register_upload_view(view_name)
