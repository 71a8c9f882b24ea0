from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsVaultConfig(AppConfig):
    name = "documents_vault"
    verbose_name = _("Document safe")
