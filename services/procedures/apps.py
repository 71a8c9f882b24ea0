from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProceduresConfig(AppConfig):
    """The procedures engine: form-based services declare their procedure types on it
    (services.procedures.types.register_procedure_type)."""

    name = "services.procedures"
    label = "procedures"
    verbose_name = _("Online procedures")

    def ready(self) -> None:
        from documents_vault import intake
        from services.catalog.registry import MunicipalService, Panel, register_service

        from . import queries

        # A message's document goes into the safe: its size limit and file-name check apply
        # while the upload is received (views.attachments raises what the intake refused).
        for view_name in (
            "procedures:message",
            "procedures:resident_transition",
            "procedures:staff_message",
            "procedures:staff_transition",
        ):
            intake.register_upload_view(view_name)

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
