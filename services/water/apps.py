from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WaterConfig(AppConfig):
    name = "services.water"
    label = "water"
    verbose_name = _("Water")

    def ready(self) -> None:
        from services.catalog.registry import MunicipalService, register_service
        from services.procedures.types import catalogue_entry, register_procedure_type

        from . import procedures

        reading = register_procedure_type(procedures.READING)
        register_service(
            MunicipalService(
                key="water",
                name=_("Water"),
                procedures=(catalogue_entry(reading),),
            )
        )
