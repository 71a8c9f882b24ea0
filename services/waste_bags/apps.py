from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WasteBagsConfig(AppConfig):
    name = "services.waste_bags"
    label = "waste_bags"
    verbose_name = _("Waste-sorting bags")

    def ready(self) -> None:
        from identity.models import Facility
        from services.catalog.registry import DeskAction, MunicipalService, register_service

        from . import actions, listeners, queries

        register_service(
            MunicipalService(
                key="waste_bags",
                name=_("Waste-sorting bags"),
                on_address_change=listeners.household_moved,
                facility_kinds=frozenset({Facility.Kind.TOWN_HALL}),
                desk_actions=(
                    DeskAction(
                        key="waste_bags",
                        label=_("Hand out bags"),
                        quantity_label=_("Rolls of bags"),
                        facility_kinds=frozenset({Facility.Kind.TOWN_HALL}),
                        summary=queries.desk_summary,
                        perform=actions.hand_out_bags,
                        max_quantity=actions.MAX_ROLLS_AT_ONCE,
                    ),
                ),
            )
        )
