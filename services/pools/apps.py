from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The catalogue products the pools sell or answer for (services.catalog.demo creates them).
POOL_PRODUCTS = frozenset(
    {
        "piscine-entree",
        "piscine-carnet-10",
        "piscine-pass-annuel",
        "piscine-stage-natation",
        "piscine-aquagym",
    }
)


class PoolsConfig(AppConfig):
    name = "services.pools"
    label = "pools"
    verbose_name = _("Swimming pools")

    def ready(self) -> None:
        from identity.actions.members import register_removal_check
        from identity.models import Facility
        from services.catalog.registry import (
            MunicipalService,
            Panel,
            Procedure,
            register_service,
        )

        # tasks connects its receivers to the actions' signals (signals.py says why).
        from . import demo, fulfilment, queries, tasks  # noqa: F401

        register_service(
            MunicipalService(
                key="pools",
                name=_("Swimming pools"),
                product_codes=POOL_PRODUCTS,
                facility_kinds=frozenset({Facility.Kind.POOL}),
                procedures=(
                    Procedure("swimming_lessons", _("Book swimming lessons"), "pools:lessons"),
                ),
                panels=(
                    Panel(
                        key="bookings",
                        title=_("My swimming lessons"),
                        template="pools/_panel.html",
                        context=queries.panel_context,
                    ),
                ),
                demo=demo.load,
            )
        )
        fulfilment.register()
        register_removal_check("pools.holds", queries.holds_block_removal)
