from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CanteenConfig(AppConfig):
    name = "services.canteen"
    label = "canteen"
    verbose_name = _("School canteen and after-school care")

    def ready(self) -> None:
        from identity.models import Facility
        from identity.schooling.signals import school_closed
        from services.catalog.registry import (
            FacilityFigures,
            Gate,
            MunicipalService,
            Panel,
            Procedure,
            register_service,
        )

        from . import billing, gate, listeners, queries

        register_service(
            MunicipalService(
                key="canteen",
                name=_("School canteen and after-school care"),
                facility_kinds=frozenset({Facility.Kind.SCHOOL}),
                gates=(Gate(Facility.Kind.SCHOOL, gate.serve_at_tap),),
                procedures=(
                    Procedure(
                        "canteen", _("Book the canteen and after-school care"), "canteen:home"
                    ),
                ),
                panels=(
                    Panel(
                        key="bookings",
                        title=_("Canteen and after-school care"),
                        template="canteen/_panel.html",
                        context=queries.panel_context,
                    ),
                ),
                on_address_change=listeners.household_moved,
                figures=(
                    FacilityFigures(
                        Facility.Kind.SCHOOL,
                        _("Meals booked and served at the school's canteen"),
                        queries.meals_page_of,
                    ),
                ),
            )
        )
        billing.register()
        school_closed.connect(listeners.school_closed, dispatch_uid="canteen.school_closed")
