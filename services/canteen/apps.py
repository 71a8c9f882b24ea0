from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CanteenConfig(AppConfig):
    name = "services.canteen"
    label = "canteen"
    verbose_name = _("School canteen and after-school care")

    def ready(self) -> None:
        from identity.models import Facility
        from services.catalog.registry import Gate, MunicipalService, register_service

        from . import billing, gate, listeners

        register_service(
            MunicipalService(
                key="canteen",
                name=_("School canteen and after-school care"),
                facility_kinds=frozenset({Facility.Kind.SCHOOL}),
                gates=(Gate(Facility.Kind.SCHOOL, gate.serve_at_tap),),
                on_address_change=listeners.household_moved,
            )
        )
        billing.register()
