from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProceduresConfig(AppConfig):
    """The procedures engine: form-based services declare their procedure types on it
    (services.procedures.types.register_procedure_type)."""

    name = "services.procedures"
    label = "procedures"
    verbose_name = _("Online procedures")
