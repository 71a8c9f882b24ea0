from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ElectionsConfig(AppConfig):
    name = "services.elections"
    label = "elections"
    verbose_name = _("Elections")

    def ready(self) -> None:
        from services.catalog.registry import MunicipalService, register_service
        from services.procedures.types import catalogue_entry, register_procedure_type

        from . import procedures

        registration = register_procedure_type(procedures.REGISTRATION)
        register_service(
            MunicipalService(
                key="elections",
                name=_("Elections"),
                procedures=(catalogue_entry(registration),),
            )
        )
