from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "services.alerts"
    label = "alerts"
    verbose_name = _("Emergency alerts")

    def ready(self) -> None:
        from services.catalog.registry import MunicipalService, register_service
        from services.procedures.types import catalogue_entry, register_procedure_type

        from . import procedures

        sign_up = register_procedure_type(procedures.SIGN_UP)
        register_service(
            MunicipalService(
                key="alerts",
                name=_("Emergency alerts"),
                procedures=(catalogue_entry(sign_up),),
            )
        )
