"""A procedure type of the tests' own (every kind of field), and files made through the actions."""

from documents_vault.models import DocumentKind
from services.procedures.actions import drafts, handling
from services.procedures.errors import FieldErrors
from services.procedures.fields import (
    AddressField,
    ChoiceField,
    Condition,
    DateField,
    DocumentField,
    GroupField,
    NumberField,
    PersonField,
    PhoneField,
    Step,
    TextField,
    YesNoField,
)
from services.procedures.types import ProcedureType, register_procedure_type
from tests.factories import staff_user

SAMPLE = "sample_request"


def _no_two_same_phones(data, context):
    phones = [row["phone"] for row in data.get("contacts", [])]
    if len(phones) != len(set(phones)):
        raise FieldErrors({"contacts": "The same phone number twice."})


SAMPLE_TYPE = ProcedureType(
    key=SAMPLE,
    name="Sample request",
    service="sample_service",
    summary="A request of the tests, with every kind of field.",
    life_events=("moving",),
    keywords=("example",),
    answer_days=15,
    validate=_no_two_same_phones,
    steps=(
        Step(
            "who",
            "Who",
            (
                TextField(name="last_name", label="Last name", prefill="last_name"),
                DateField(
                    name="birth_date", label="Date of birth", past=True, prefill="birth_date"
                ),
                PersonField(name="member", label="Member"),
            ),
        ),
        Step(
            "what",
            "What",
            (
                ChoiceField(
                    name="delivery",
                    label="Delivery",
                    choices=(("post", "By post"), ("email", "By email")),
                ),
                AddressField(
                    name="address",
                    label="Postal address",
                    prefill="address",
                    shown_when=Condition("delivery", ("post",)),
                ),
                NumberField(name="copies", label="Copies", minimum=1, maximum=5),
                YesNoField(name="urgent", label="Urgent", required=False),
                GroupField(
                    name="contacts",
                    label="Contacts",
                    required=False,
                    fields=(PhoneField(name="phone", label="Phone"),),
                    maximum=3,
                ),
            ),
        ),
        Step(
            "documents",
            "Documents",
            (
                DocumentField(
                    name="identity",
                    label="Identity document",
                    kinds=(DocumentKind.IDENTITY_DOCUMENT,),
                ),
            ),
        ),
    ),
)


def register_sample() -> ProcedureType:
    return register_procedure_type(SAMPLE_TYPE)


def clerk():
    return staff_user("clerk")


def filled_draft(resident, document, *, member=None):
    """A draft of the sample type with every step answered."""
    file = drafts.start_draft(actor=resident.user, type_key=SAMPLE)
    drafts.save_step(
        actor=resident.user,
        file=file,
        step="who",
        values={
            "last_name": resident.last_name,
            "birth_date": "17/05/1985",
            "member": (member or resident).public_id,
        },
    )
    drafts.save_step(
        actor=resident.user,
        file=file,
        step="what",
        values={"delivery": "email", "copies": "2"},
    )
    return drafts.save_step(
        actor=resident.user, file=file, step="documents", values={"identity": document.public_id}
    )


def submitted(resident, document):
    return drafts.submit(actor=resident.user, file=filled_draft(resident, document))


def in_review(resident, document, by):
    file = submitted(resident, document)
    return handling.transition(actor=by, file=file, key="take")
