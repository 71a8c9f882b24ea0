from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "services.appointments"
    label = "appointments"
    verbose_name = _("Appointments")

    def ready(self) -> None:
        from identity.models import Facility
        from services.catalog.registry import (
            MunicipalService,
            Panel,
            Procedure,
            register_service,
        )

        from . import bookers, demo, queries

        register_service(
            MunicipalService(
                key="appointments",
                name=_("Appointments"),
                facility_kinds=frozenset({Facility.Kind.TOWN_HALL}),
                procedures=(
                    Procedure("appointment", _("Make an appointment"), "appointments:desks"),
                ),
                panels=(
                    Panel(
                        key="bookings",
                        title=_("My appointments"),
                        template="appointments/_panel.html",
                        context=queries.panel_context,
                    ),
                ),
                bookers=(bookers.CIVIL_STATUS_BOOKER,),
                demo=demo.load,
            )
        )
