"""Registration on the electoral roll (inscription sur les listes électorales): an identity
document and a proof of address from the safe; requests close on the sixth Friday before the
next vote (shown and enforced); the mayor decides within five days (Code électoral, L18), the
file's deadline."""

from datetime import date

from django.utils.translation import gettext_lazy as _

from documents_vault.models import DocumentKind
from services.procedures.fields import (
    AddressField,
    ChoiceField,
    DateField,
    DocumentField,
    Step,
    TextField,
)
from services.procedures.types import ProcedureType

from .models import Election

KEY = "electoral_roll"
MAYOR_DECISION_DAYS = 5


def next_election(today: date) -> Election | None:
    return Election.objects.filter(vote_on__gte=today).order_by("vote_on").first()


def open_until(today: date) -> date | None:
    """The last day to register for the next vote, or None when none is scheduled."""
    election = next_election(today)
    return election.registration_deadline if election is not None else None


def outcome_lines(file) -> list[str]:
    return [
        str(
            _("The mayor registered %(name)s on the electoral roll.")
            % {"name": file.applicant.full_name}
        ),
        str(_("Your voter card is sent to your address.")),
    ]


REGISTRATION = ProcedureType(
    key=KEY,
    name=_("Registration on the electoral roll"),
    service="elections",
    summary=_(
        "Register to vote in the commune. Requests close on the sixth Friday before the vote; "
        "the mayor decides within five days."
    ),
    life_events=("elections", "moving"),
    keywords=("liste electorale", "inscription", "vote", "election"),
    answer_days=MAYOR_DECISION_DAYS,
    open_until=open_until,
    outcome_lines=outcome_lines,
    steps=(
        Step(
            "identity",
            _("You"),
            (
                TextField(name="last_name", label=_("Last name"), prefill="last_name"),
                TextField(name="first_names", label=_("First names"), prefill="first_name"),
                DateField(
                    name="birth_date", label=_("Date of birth"), past=True, prefill="birth_date"
                ),
                TextField(name="birth_place", label=_("Place of birth")),
                ChoiceField(
                    name="nationality",
                    label=_("Nationality"),
                    choices=(
                        ("french", _("French")),
                        ("eu", _("Citizen of another European Union country")),
                    ),
                ),
            ),
        ),
        Step(
            "address",
            _("Address and documents"),
            (
                AddressField(name="address", label=_("Address in the commune"), prefill="address"),
                DocumentField(
                    name="identity",
                    label=_("Identity document"),
                    kinds=(DocumentKind.IDENTITY_DOCUMENT,),
                ),
                DocumentField(
                    name="proof_of_address",
                    label=_("Proof of address"),
                    kinds=(DocumentKind.PROOF_OF_ADDRESS,),
                ),
            ),
        ),
    ),
)
