"""Civil-status certificates (actes de naissance, de mariage, de décès) under décret
n° 2017-890 of 6 May 2017, articles 30 to 32:

- a full copy or an extract with parentage of a birth or marriage act is delivered to the person
  the act is about (of age or emancipated), their ascendants, descendants, spouse, legal
  representative (and to public officials the law names, who do not ask here);
- an extract without parentage is delivered to anyone;
- a death act's copy is delivered to anyone;
- whoever asks for a full copy or an extract with parentage gives the names of the person's
  parents;
- it is free, sent by post (or by email where the town sends it electronically), or handed
  over at the town hall's civil-status desk: accepting such a request books the appointment
  to collect it (the engine's booking output, through the registry's booker of the
  appointments service), where the clerk checks the requester's identity."""

from django.utils.translation import gettext_lazy as _

from documents_vault.models import DocumentKind
from services.procedures.errors import FieldErrors
from services.procedures.fields import (
    AddressField,
    ChoiceField,
    Condition,
    DateField,
    DocumentField,
    EmailField,
    Step,
    TextField,
)
from services.procedures.types import BookingOutput, ProcedureType

KEY = "civil_status_certificate"

BIRTH, MARRIAGE, DEATH = "birth", "marriage", "death"
FULL, WITH_PARENTAGE, WITHOUT_PARENTAGE = "full_copy", "extract_parentage", "extract_plain"
# Who may receive a full copy or an extract with parentage of a birth or marriage act.
ENTITLED = ("self", "spouse", "ascendant", "descendant", "legal_representative")

ACTS = (
    (BIRTH, _("Birth certificate")),
    (MARRIAGE, _("Marriage certificate")),
    (DEATH, _("Death certificate")),
)
COPIES = (
    (FULL, _("Full copy")),
    (WITH_PARENTAGE, _("Extract with parentage")),
    (WITHOUT_PARENTAGE, _("Extract without parentage")),
)
RELATIONSHIPS = (
    ("self", _("It is my own act")),
    ("spouse", _("My spouse")),
    ("ascendant", _("My child or grandchild (I am their parent or grandparent)")),
    ("descendant", _("My parent or grandparent (I am their child or grandchild)")),
    ("legal_representative", _("I am their legal representative")),
    ("other", _("Another relationship, or none")),
)
WITH_PARENTS = (FULL, WITH_PARENTAGE)


def may_receive(*, act: str, copy: str, relationship: str) -> bool:
    """Décret 2017-890: anyone receives an extract without parentage and any copy of a death
    act; full copies and extracts with parentage of birth and marriage acts go to the person,
    their ascendants, descendants, spouse or legal representative."""
    if act == DEATH or copy == WITHOUT_PARENTAGE:
        return True
    return relationship in ENTITLED


def validate(data, context) -> None:
    if not may_receive(
        act=data.get("act"), copy=data.get("copy"), relationship=data.get("relationship")
    ):
        raise FieldErrors(
            {
                "relationship": str(
                    _(
                        "Only the person, their spouse, ascendants, descendants or legal "
                        "representative receive a full copy or an extract with parentage; "
                        "anyone may ask for an extract without parentage."
                    )
                )
            }
        )


def outcome_lines(file) -> list[str]:
    data = file.data
    act = dict(ACTS).get(data.get("act"), "")
    copy = dict(COPIES).get(data.get("copy"), "")
    if data.get("delivery") == "email":
        delivery = _("It is sent by email to %(email)s.") % {"email": data.get("email", "")}
    elif data.get("delivery") == COUNTER:
        delivery = _(
            "It is handed to you at the town hall's civil-status desk, at the appointment "
            "booked for you: bring your identity document."
        )
    else:
        delivery = _("It is sent by post to the address you gave.")
    return [
        str(_("%(copy)s of the %(act)s of %(first)s %(last)s: accepted."))
        % {
            "copy": copy,
            "act": str(act).lower(),
            "first": data.get("first_names", ""),
            "last": data.get("last_name", ""),
        },
        str(delivery),
        str(_("Civil-status certificates are free of charge.")),
    ]


PARENTS_SHOWN = Condition("copy", WITH_PARENTS)
# Delivered by hand at the civil-status desk, at an appointment booked on acceptance.
COUNTER = "counter"

CERTIFICATE = ProcedureType(
    key=KEY,
    name=_("Civil-status certificate"),
    service="civil_status",
    summary=_(
        "A copy or an extract of a birth, marriage or death certificate drawn up in the "
        "commune. Free."
    ),
    life_events=("family", "birth"),
    keywords=("acte", "naissance", "mariage", "deces", "etat civil", "extrait", "copie"),
    answer_days=10,
    validate=validate,
    outcome_lines=outcome_lines,
    booking=BookingOutput(
        booker="appointments.civil_status_desk",
        label=_("Appointment to collect the certificate"),
        when=Condition("delivery", (COUNTER,)),
    ),
    steps=(
        Step(
            "act",
            _("The certificate"),
            (
                ChoiceField(name="act", label=_("Certificate"), choices=ACTS),
                ChoiceField(name="copy", label=_("Kind of copy"), choices=COPIES),
                TextField(
                    name="last_name", label=_("Last name on the certificate"), prefill="last_name"
                ),
                TextField(
                    name="first_names",
                    label=_("First names on the certificate"),
                    prefill="first_name",
                ),
                DateField(name="event_date", label=_("Date of the event"), past=True),
                TextField(
                    name="father_names",
                    label=_("Parent's names (first parent)"),
                    shown_when=PARENTS_SHOWN,
                    help=_("Required by law for a full copy or an extract with parentage."),
                ),
                TextField(
                    name="mother_names",
                    label=_("Parent's names (second parent)"),
                    required=False,
                    shown_when=PARENTS_SHOWN,
                ),
            ),
        ),
        Step(
            "requester",
            _("You and the person"),
            (
                ChoiceField(
                    name="relationship",
                    label=_("The person on the certificate is"),
                    choices=RELATIONSHIPS,
                ),
                DocumentField(
                    name="identity",
                    label=_("Your identity document"),
                    kinds=(DocumentKind.IDENTITY_DOCUMENT,),
                    shown_when=Condition("copy", WITH_PARENTS),
                ),
            ),
        ),
        Step(
            "delivery",
            _("Delivery"),
            (
                ChoiceField(
                    name="delivery",
                    label=_("Send it"),
                    choices=(
                        ("post", _("By post")),
                        ("email", _("By email")),
                        (COUNTER, _("To collect at the town hall")),
                    ),
                ),
                AddressField(
                    name="address",
                    label=_("Postal address"),
                    prefill="address",
                    in_territory=False,
                    shown_when=Condition("delivery", ("post",)),
                ),
                EmailField(
                    name="email",
                    label=_("Email address"),
                    prefill="email",
                    shown_when=Condition("delivery", ("email",)),
                ),
            ),
        ),
    ),
)
