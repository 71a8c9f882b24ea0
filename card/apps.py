from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CardConfig(AppConfig):
    name = "card"
    verbose_name = _("Cards and readers")

    def ready(self) -> None:
        from documents_vault import intake
        from identity.actions.members import register_removal_check

        from . import queries

        register_removal_check("card.cards", queries.cards_block_removal)

        # The card request's photo goes into the holder's documents: the safe's size limit
        # and file-name check apply while it is received.
        intake.register_upload_view("card:request")
