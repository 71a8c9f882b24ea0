"""Change of address: declared once; when the town hall accepts it, the household's dated
address history changes from the moving day (identity's own action, closing the old address
on that day), and the services that care (canteen, school, waste bags…) are told through the
registry (services.catalog.registry.announce_address_change)."""

from datetime import date

from django.utils.translation import gettext_lazy as _

from documents_vault.models import DocumentKind
from identity.actions.household import AddressInput, change_address
from identity.models import AuditEntry, Commune
from services.catalog.registry import announce_address_change
from services.procedures.fields import AddressField, DateField, DocumentField, Step
from services.procedures.types import ProcedureType

KEY = "change_of_address"


def accepted(file, actor) -> None:
    """The move enters the household's address history (a refusal there refuses the
    acceptance: nothing is written), then the services are told."""
    data = file.data
    address = data["new_address"]
    moved_in = date.fromisoformat(data["moved_in"])
    change_address(
        actor=actor,
        household=file.household,
        address=AddressInput(
            line1=address["line1"],
            line2=address.get("line2", ""),
            postcode=address["postcode"],
            commune=Commune.objects.get(insee_code=address["commune"]),
        ),
        moved_in=moved_in,
        channel=AuditEntry.Channel.COUNTER,
    )
    announce_address_change(file.household, moved_in)


def outcome_lines(file) -> list[str]:
    return [
        str(
            _("Your new address is recorded from %(day)s; the town's services are told.")
            % {"day": date.fromisoformat(file.data["moved_in"]).strftime("%d/%m/%Y")}
        )
    ]


CHANGE_OF_ADDRESS = ProcedureType(
    key=KEY,
    name=_("Change of address"),
    service="moving",
    summary=_(
        "Declare your move once: your household's address changes from the moving day and the "
        "town's services (canteen, school, waste bags) are told."
    ),
    life_events=("moving",),
    keywords=("demenagement", "adresse", "nouvelle adresse"),
    answer_days=15,
    on_accept=accepted,
    outcome_lines=outcome_lines,
    steps=(
        Step(
            "address",
            _("Your new address"),
            (
                AddressField(name="new_address", label=_("New address")),
                DateField(name="moved_in", label=_("Moving day")),
                DocumentField(
                    name="proof_of_address",
                    label=_("Proof of the new address"),
                    kinds=(DocumentKind.PROOF_OF_ADDRESS,),
                ),
            ),
        ),
    ),
)
