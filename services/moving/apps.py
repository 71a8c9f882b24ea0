from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MovingConfig(AppConfig):
    name = "services.moving"
    label = "moving"
    verbose_name = _("Moving")

    def ready(self) -> None:
        from services.catalog.registry import MunicipalService, register_service
        from services.procedures.types import catalogue_entry, register_procedure_type

        from . import procedures

        change = register_procedure_type(procedures.CHANGE_OF_ADDRESS)
        register_service(
            MunicipalService(
                key="moving",
                name=_("Moving"),
                procedures=(catalogue_entry(change),),
            )
        )
