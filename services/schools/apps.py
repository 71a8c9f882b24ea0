from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchoolsConfig(AppConfig):
    name = "services.schools"
    label = "schools"
    verbose_name = _("Schools")

    def ready(self) -> None:
        from services.catalog.registry import MunicipalService, register_service
        from services.procedures.types import catalogue_entry, register_procedure_type

        from . import listeners, procedures

        pre_enrolment = register_procedure_type(procedures.PRE_ENROLMENT)
        register_service(
            MunicipalService(
                key="schools",
                name=_("Schools"),
                procedures=(catalogue_entry(pre_enrolment),),
                on_address_change=listeners.household_moved,
            )
        )
