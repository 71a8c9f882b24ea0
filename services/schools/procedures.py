"""School pre-enrolment (inscription scolaire) on the procedures engine.

The town may ask only for the child's identity, the guardians' identity and a proof of
address; a sworn statement stands in for the proof and checking the address never blocks the
enrolment (Code de l'éducation D131-3-1, décret n° 2020-811 of 29 June 2020). The mayor issues
the certificate of enrolment (L131-5), which the school's head needs to admit the child. The
school is the catchment school of the household's address on the day of the submission; a
parent may ask for another school (a derogation) with one of the town's published reasons,
decided by the mayor (and the receiving commune's mayor when the school is elsewhere)."""

from datetime import date

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from documents_vault.models import DocumentKind
from identity.errors import DomainError
from identity.models import Person
from identity.queries import current_address
from identity.schooling.actions import lock_child
from services.procedures.errors import FieldErrors
from services.procedures.fields import (
    ChoiceField,
    Condition,
    Context,
    DocumentField,
    PersonField,
    Step,
    YesNoField,
)
from services.procedures.types import (
    ANSWER,
    ASK,
    TAKE,
    ProcedureType,
    State,
    Transition,
)

from . import queries
from .actions import enrol_pre_enrolled
from .levels import LEVEL_CHOICES, age_problem, next_school_year, school_year_label

KEY = "school_pre_enrolment"
COMPLETE_STATE = "complete"
CATCHMENT, DEROGATION = "catchment", "derogation"
PROOF, SWORN = "proof", "sworn"
# The town's published derogation criteria.
DEROGATION_REASONS = (
    ("siblings", _("A brother or sister already at that school")),
    ("work", _("A parent works near that school")),
    ("childcare", _("The child is looked after near that school")),
    ("medical", _("Medical reasons")),
)


class SchoolChoices:
    """The town's schools, read when the form is drawn (a school added in the admin shows)."""

    def __iter__(self):
        return iter([(s.public_id, s.name) for s in queries.schools()])


def submitted_on(file) -> date:
    return timezone.localdate(file.submitted_at) if file.submitted_at else timezone.localdate()


def other_application(child: Person, start: int):
    """The child's other pre-enrolment file for the school year starting in `start`, sent by
    either guardian and not refused or withdrawn, read under the child's row lock (two
    guardians submitting at once are decided one after the other)."""
    from services.procedures.models import ProcedureFile

    return (
        ProcedureFile.objects.filter(type_key=KEY, data__child=child.public_id)
        .exclude(state__in=(State.DRAFT, State.REFUSED, State.WITHDRAWN))
        .filter(submitted_at__date__gte=date(start - 1, 9, 1))
        .select_related("applicant")
        .order_by("submitted_at")
        .first()
    )


def long_day(day: date) -> str:
    """ "lundi 7 septembre 2026", "mardi 1er juin 2027" in French; "Monday 7 September 2026"."""
    text = date_format(day, "l j F Y")
    if (get_language() or "").startswith("fr"):
        text = text[0].lower() + text[1:]
        if day.day == 1:
            text = text.replace(" 1 ", " 1er ", 1)
    return text


def proposed_school(context: Context) -> str:
    """The school of the household's address on the day, shown as the parent fills the form
    (the catchment map of the coming school year)."""
    start = next_school_year(context.today)
    found = queries.catchment_of_household(context.household, on=context.today, school_year=start)
    address = current_address(context.household, on=context.today)
    where = f"{address.line1}, {address.commune.name}" if address else ""
    day = long_day(context.today)
    if found.school is not None:
        school = found.school
        return str(
            _(
                "On %(day)s, the school of your address (%(address)s) for %(year)s is "
                "%(school)s, %(school_address)s."
            )
            % {
                "day": day,
                "address": where,
                "year": school_year_label(start),
                "school": school.name,
                "school_address": school.address,
            }
        )
    if found.status == queries.OUTSIDE:
        return str(
            _(
                "Your household's address is outside the territory: no school of the town is "
                "the school of your address; ask for a derogation."
            )
        )
    return str(
        _(
            "The catchment map gives no single school for your address (%(address)s) yet: "
            "the school service will tell you the school. You can also ask for a derogation."
        )
        % {"address": where}
    )


def validate(data, context) -> None:
    errors = {}
    child = Person.objects.filter(public_id=data.get("child")).first()
    start = next_school_year(context.today)
    if child is not None and data.get("level"):
        problem = age_problem(level=data["level"], birth_date=child.birth_date, start=start)
        if problem == "too_young":
            errors["level"] = str(
                _("The child is too young for this level in %(year)s.")
                % {"year": school_year_label(start)}
            )
        elif problem == "too_old":
            errors["level"] = str(
                _("The child is too old for this level in %(year)s.")
                % {"year": school_year_label(start)}
            )
    if child is not None:
        lock_child(child)
        other = other_application(child, start)
        if other is not None:
            errors["child"] = str(
                _(
                    "This child already has a pre-enrolment for %(year)s, sent by %(name)s on "
                    "%(day)s: one file per child and school year."
                )
                % {
                    "year": school_year_label(start),
                    "name": other.applicant.full_name,
                    "day": long_day(timezone.localdate(other.submitted_at)),
                }
            )
        elif queries.enrolment_of(child, start) is not None:
            errors["child"] = str(
                _("This child is already enrolled in a school for %(year)s.")
                % {"year": school_year_label(start)}
            )
    if data.get("choice") == CATCHMENT:
        found = queries.catchment_of_household(
            context.household, on=context.today, school_year=start
        )
        if found.status == queries.OUTSIDE:
            errors["choice"] = str(
                _(
                    "Your household's address is outside the territory: ask for a derogation "
                    "to a school of the town."
                )
            )
    if data.get("choice") == DEROGATION and not data.get("derogation_reason"):
        errors["derogation_reason"] = str(_("Give the reason for the derogation."))
    if data.get("address_proof") == SWORN and data.get("sworn_statement") is not True:
        errors["sworn_statement"] = str(
            _("Tick the sworn statement, or give a proof of address instead.")
        )
    if errors:
        raise FieldErrors(errors)


def school_of_file(file):
    """The school a file enrols in: the school asked for under a derogation, else the
    catchment school of where the household lives when the school year starts, as the town
    knows it today (a move declared since the submission counts: the child goes to the school
    of the new home); a map that gives none or two schools is a data error for the
    administrator, never a silent pick."""
    data = file.data
    start = next_school_year(submitted_on(file))
    day = max(timezone.localdate(), date(start, 9, 1))
    if data.get("choice") == DEROGATION:
        school = queries.school_by_public_id(data.get("wanted_school"))
        if school is None:
            raise DomainError(_("The school asked for no longer exists."), field="wanted_school")
        return school
    found = queries.catchment_of_household(file.household, on=day, school_year=start)
    if found.school is None:
        raise DomainError(
            _(
                "The catchment map gives no single school for this address "
                "(%(problem)s): the administrator must correct the map first."
            )
            % {"problem": queries.status_label(found)},
            field="school",
            code=found.status,
        )
    return found.school


def accepted(file, actor) -> None:
    """The child enters the school's list for the school year (a refusal refuses the
    acceptance): places and a second enrolment are checked under lock."""
    data = file.data
    enrol_pre_enrolled(
        actor=actor,
        child=Person.objects.get(public_id=data["child"]),
        school=school_of_file(file),
        school_year=next_school_year(submitted_on(file)),
        level=data["level"],
        derogation=data.get("choice") == DEROGATION,
        procedure_file=file.public_id,
    )


def staff_notes(file) -> list[tuple[str, str]]:
    """What the school service sees before deciding: the school the file enrols in and the
    places of its level against the children already enrolled (a school filling up)."""
    start = next_school_year(submitted_on(file))
    enrolment = queries.enrolment_of_file(file.public_id)
    if enrolment is not None:
        school = enrolment.school
    else:
        try:
            school = school_of_file(file)
        except DomainError as error:
            return [(str(_("School")), error.message)]
    level = file.data.get("level", "")
    line = queries.places_line(school, level, start)
    if line.places is None:
        places = _("enrolled: %(accepted)s, no places set for this level") % {
            "accepted": line.accepted
        }
    else:
        places = _("places: %(places)s, enrolled: %(accepted)s") % {
            "accepted": line.accepted,
            "places": line.places,
        }
        if line.full:
            places = _("%(places)s — full") % {"places": places}
    return [
        (str(_("School")), school.name),
        (
            str(
                _("Places in %(level)s, %(year)s")
                % {
                    "level": line.level_label,
                    "year": school_year_label(start),
                }
            ),
            str(places),
        ),
    ]


def queue_summary() -> tuple[list[str], list[list[str]]]:
    """Above the queue: each school and level of the coming school year, its places against
    the children enrolled (a school filling up shows before the last place is given)."""
    start = next_school_year(timezone.localdate())
    columns = [
        str(_("School")),
        str(_("Level")),
        str(_("Enrolled for %(year)s") % {"year": school_year_label(start)}),
        str(_("Places")),
    ]
    rows = []
    for line in queries.places_against_accepted(start):
        if line.places is None:
            left = _("not set")
        elif line.full:
            left = _("%(places)s — full") % {"places": line.places}
        else:
            left = _("%(places)s (%(left)s left)") % {
                "places": line.places,
                "left": line.places - line.accepted,
            }
        rows.append([line.school.name, line.level_label, str(line.accepted), str(left)])
    return columns, rows


def outcome_lines(file) -> list[str]:
    """The certificate of enrolment (L131-5) with the mentions the school's head expects."""
    enrolment = queries.enrolment_of_file(file.public_id)
    if enrolment is None:
        return []
    child, school = enrolment.child, enrolment.school
    lines = [
        str(_("CERTIFICATE OF ENROLMENT (Code de l'éducation, article L131-5)")),
        str(
            _("The mayor certifies that %(name)s, born on %(birth)s, is enrolled at:")
            % {"name": child.full_name, "birth": child.birth_date.strftime("%d/%m/%Y")}
        ),
        str(
            _("%(school)s, %(address)s (UAI %(uai)s)")
            % {"school": school.name, "address": school.address, "uai": school.uai or "-"}
        ),
        str(
            _("Level: %(level)s — school year %(year)s")
            % {
                "level": enrolment.get_level_display(),
                "year": enrolment.school_year.name,
            }
        ),
        str(
            _("Legal guardian: %(name)s") % {"name": file.applicant.full_name},
        ),
    ]
    if enrolment.derogation:
        lines.append(str(_("Enrolment granted by derogation to the catchment map.")))
    lines.append(
        str(_("Present this certificate to the school's head, who then admits the child."))
    )
    return lines


MARK_COMPLETE = Transition(
    "mark_complete",
    _("The file is complete"),
    frozenset({State.SUBMITTED, State.IN_REVIEW}),
    COMPLETE_STATE,
)
ACCEPT = Transition(
    "accept",
    _("Accept (certificate of enrolment)"),
    frozenset({State.SUBMITTED, State.IN_REVIEW, COMPLETE_STATE}),
    State.ACCEPTED,
)
REFUSE = Transition(
    "refuse",
    _("Refuse"),
    frozenset({State.SUBMITTED, State.IN_REVIEW, State.WAITING, COMPLETE_STATE}),
    State.REFUSED,
    needs_message=True,
)
REFUSE_DEROGATION = Transition(
    "refuse_derogation",
    _("Refuse the derogation (with the other commune's answer when there is one)"),
    frozenset({State.SUBMITTED, State.IN_REVIEW, COMPLETE_STATE}),
    State.REFUSED,
    needs_message=True,
)
INCOMPLETE = Transition(
    "ask",
    _("The file is incomplete: ask the parent"),
    ASK.sources | {COMPLETE_STATE},
    State.WAITING,
    needs_message=True,
)
DONE = Transition("complete", _("Mark as done"), frozenset({State.ACCEPTED}), State.DONE)
WITHDRAW = Transition(
    "withdraw",
    _("Withdraw my request"),
    frozenset({State.SUBMITTED, State.IN_REVIEW, State.WAITING, COMPLETE_STATE}),
    State.WITHDRAWN,
    by="resident",
)

DEROGATION_SHOWN = Condition("choice", (DEROGATION,))

PRE_ENROLMENT = ProcedureType(
    key=KEY,
    name=_("School pre-enrolment"),
    service="schools",
    summary=_(
        "Enrol your child in a nursery or primary school of the town for the coming school "
        "year: the school of your address, or another one by derogation."
    ),
    life_events=("school", "birth"),
    keywords=("ecole", "inscription", "scolaire", "maternelle", "elementaire", "derogation"),
    answer_days=30,
    extra_states=((COMPLETE_STATE, _("Complete")),),
    transitions=(
        TAKE,
        MARK_COMPLETE,
        INCOMPLETE,
        ANSWER,
        ACCEPT,
        REFUSE,
        REFUSE_DEROGATION,
        DONE,
        WITHDRAW,
    ),
    validate=validate,
    on_accept=accepted,
    outcome_lines=outcome_lines,
    staff_notes=staff_notes,
    queue_summary=queue_summary,
    steps=(
        Step(
            "child",
            _("The child"),
            (
                PersonField(name="child", label=_("Child to enrol")),
                ChoiceField(
                    name="level", label=_("Level at the start of the year"), choices=LEVEL_CHOICES
                ),
                DocumentField(
                    name="child_identity",
                    label=_("The child's identity (family record book or birth certificate)"),
                    kinds=(DocumentKind.FAMILY_RECORD_BOOK, DocumentKind.IDENTITY_DOCUMENT),
                ),
                DocumentField(
                    name="guardian_identity",
                    label=_("Your identity document"),
                    kinds=(DocumentKind.IDENTITY_DOCUMENT,),
                ),
            ),
        ),
        Step(
            "school",
            _("The school"),
            (
                ChoiceField(
                    name="choice",
                    label=_("School"),
                    help=_(
                        "The school of your address is the one the catchment map gives for "
                        "your household's address at the start of the school year: declare a "
                        "move and the town hall follows it."
                    ),
                    help_for=proposed_school,
                    choices=(
                        (CATCHMENT, _("The school of my address")),
                        (DEROGATION, _("Another school (a derogation)")),
                    ),
                ),
                ChoiceField(
                    name="wanted_school",
                    label=_("School asked for"),
                    choices=SchoolChoices(),
                    shown_when=DEROGATION_SHOWN,
                ),
                ChoiceField(
                    name="derogation_reason",
                    label=_("Reason for the derogation"),
                    choices=DEROGATION_REASONS,
                    shown_when=DEROGATION_SHOWN,
                ),
                DocumentField(
                    name="derogation_document",
                    label=_("A document supporting the reason"),
                    kinds=(DocumentKind.OTHER,),
                    required=False,
                    shown_when=DEROGATION_SHOWN,
                ),
            ),
        ),
        Step(
            "address",
            _("Your address"),
            (
                ChoiceField(
                    name="address_proof",
                    label=_("Your address"),
                    choices=(
                        (PROOF, _("I give a proof of address")),
                        (SWORN, _("I make a sworn statement of my address")),
                    ),
                ),
                DocumentField(
                    name="proof_of_address",
                    label=_("Proof of address"),
                    kinds=(DocumentKind.PROOF_OF_ADDRESS,),
                    shown_when=Condition("address_proof", (PROOF,)),
                ),
                YesNoField(
                    name="sworn_statement",
                    label=_(
                        "I declare on my honour that my household lives at the address "
                        "the town holds"
                    ),
                    shown_when=Condition("address_proof", (SWORN,)),
                ),
            ),
        ),
    ),
)
