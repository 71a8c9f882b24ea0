from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProceduresConfig(AppConfig):
    """The procedures engine: form-based services declare their procedure types on it
    (services.procedures.types.register_procedure_type)."""

    name = "services.procedures"
    label = "procedures"
    verbose_name = _("Online procedures")

    def ready(self) -> None:
        from services.catalog.registry import MunicipalService, Panel, register_service

        from . import queries

        # Not a municipal service: the engine adds the resident's requests to Mon espace.
        register_service(
            MunicipalService(
                key="procedures",
                name=_("Online procedures"),
                panels=(
                    Panel(
                        key="procedures",
                        title=_("My procedures"),
                        template="procedures/_panel.html",
                        context=queries.panel_context,
                        order=5,
                    ),
                ),
            )
        )
