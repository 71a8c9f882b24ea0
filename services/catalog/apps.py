from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "services.catalog"
    label = "catalog"
    verbose_name = _("Services catalogue")

    def ready(self) -> None:
        from identity.actions.members import register_removal_check

        from . import fulfilment, queries
        from .registry import MunicipalService, Panel, Procedure, register_service

        # The catalogue's own offer: passes, entry books and memberships of every service,
        # bought in Mon espace (the products of each service are listed by that service).
        register_service(
            MunicipalService(
                key="catalog",
                name=_("Passes and tickets"),
                procedures=(Procedure("buy", _("Buy passes and tickets"), "catalog:products"),),
                panels=(
                    Panel(
                        key="services",
                        title=_("My services"),
                        template="catalog/_panel.html",
                        context=queries.panel_context,
                        order=10,
                    ),
                    # What every registered service lets a resident start online.
                    Panel(
                        key="procedures",
                        title=_("My procedures"),
                        template="catalog/_procedures.html",
                        context=queries.procedures_context,
                        order=10,
                    ),
                ),
            )
        )
        fulfilment.register()
        register_removal_check("catalog.entitlements", queries.entitlements_block_removal)
