from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CivilStatusConfig(AppConfig):
    name = "services.civil_status"
    label = "civil_status"
    verbose_name = _("Civil status")

    def ready(self) -> None:
        from services.catalog.registry import MunicipalService, register_service
        from services.procedures.types import catalogue_entry, register_procedure_type

        from . import procedures

        certificate = register_procedure_type(procedures.CERTIFICATE)
        register_service(
            MunicipalService(
                key="civil_status",
                name=_("Civil status"),
                procedures=(catalogue_entry(certificate),),
            )
        )
