from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsVaultConfig(AppConfig):
    name = "documents_vault"
    verbose_name = _("Residents' documents")

    def ready(self) -> None:
        from . import intake

        # Uploads into the safe get its size limit and file-name check while being received
        # (the API's list and upload share one address, so one URL name).
        for view_name in ("documents_vault:add", "documents_vault:replace", "api:vault_documents"):
            intake.register_upload_view(view_name)
