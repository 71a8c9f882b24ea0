"""Procedure types, declared in code by the municipal service that owns each one and
registered with the engine from its AppConfig.ready (`register_procedure_type`).

A type says what the form asks (steps of typed fields, services.procedures.fields), what the
town already knows and prefills, the documents it needs, who handles it (a staff role and the
service's queue), its states and the transitions between them with who may trigger each, the
time the town has to answer, and what it produces when accepted (a change in identity, a PDF)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from identity.models import StaffRole

from .fields import Condition, Context, Field, Step

Label = str | Promise


class State:
    """The states every procedure has; a type may add its own (`ProcedureType.extra_states`)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    WAITING = "waiting"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    DONE = "done"
    WITHDRAWN = "withdrawn"


STATE_LABELS: dict[str, Label] = {
    State.DRAFT: pgettext_lazy("procedure state", "Draft"),
    State.SUBMITTED: pgettext_lazy("procedure state", "Submitted"),
    State.IN_REVIEW: pgettext_lazy("procedure state", "In review"),
    State.WAITING: pgettext_lazy("procedure state", "Waiting for you"),
    State.ACCEPTED: pgettext_lazy("procedure state", "Accepted"),
    State.REFUSED: pgettext_lazy("procedure state", "Refused"),
    State.DONE: pgettext_lazy("procedure state", "Done"),
    State.WITHDRAWN: pgettext_lazy("procedure state", "Withdrawn"),
}
# Staff read "waiting for the resident" where the resident reads "waiting for you".
STAFF_STATE_LABELS: dict[str, Label] = {
    State.WAITING: pgettext_lazy("procedure state", "Waiting for the resident")
}
# A file in one of these is closed: it no longer counts as the resident's open request, its
# deadline no longer runs and the documents shared with it are no longer readable by staff.
CLOSED_STATES = frozenset({State.REFUSED, State.DONE, State.WITHDRAWN})


class By:
    """Who may trigger a transition."""

    STAFF = "staff"
    RESIDENT = "resident"


@dataclass(frozen=True)
class Transition:
    key: str
    label: Label
    sources: frozenset[str]
    target: str
    by: str = By.STAFF
    # The message to the resident (or, from the resident, to the clerk) is required.
    needs_message: bool = False


TAKE = Transition("take", _("Start the review"), frozenset({State.SUBMITTED}), State.IN_REVIEW)
ASK = Transition(
    "ask",
    _("Ask the resident for more information"),
    frozenset({State.SUBMITTED, State.IN_REVIEW}),
    State.WAITING,
    needs_message=True,
)
ANSWER = Transition(
    "answer",
    _("Answer the town hall"),
    frozenset({State.WAITING}),
    State.IN_REVIEW,
    by=By.RESIDENT,
    needs_message=True,
)
ACCEPT = Transition(
    "accept", _("Accept"), frozenset({State.SUBMITTED, State.IN_REVIEW}), State.ACCEPTED
)
REFUSE = Transition(
    "refuse",
    _("Refuse"),
    frozenset({State.SUBMITTED, State.IN_REVIEW, State.WAITING}),
    State.REFUSED,
    needs_message=True,
)
COMPLETE = Transition("complete", _("Mark as done"), frozenset({State.ACCEPTED}), State.DONE)
WITHDRAW = Transition(
    "withdraw",
    _("Withdraw my request"),
    frozenset({State.SUBMITTED, State.IN_REVIEW, State.WAITING}),
    State.WITHDRAWN,
    by=By.RESIDENT,
)
DEFAULT_TRANSITIONS = (TAKE, ASK, ANSWER, ACCEPT, REFUSE, COMPLETE, WITHDRAW)

# accepted(file, actor): what the type produces when a file is accepted (a change in
# identity…), inside the transition's transaction; a DomainError refuses the transition.
OnAccept = Callable[[Any, Any], None]
# validate(data, context): checks between fields at submission; raise FieldErrors.
Validate = Callable[[Mapping[str, Any], Context], None]
# open_until(today) -> the last day the request may be submitted (an election's deadline),
# or None when it is always open.
OpenUntil = Callable[[date], "date | None"]
# outcome_lines(file) -> the lines of the outcome PDF once accepted.
OutcomeLines = Callable[[Any], list[str]]


@dataclass(frozen=True)
class BookingOutput:
    """An accepted file produces a booking: the clerk accepting it chooses one of the times
    the registry's booker `booker` offers (services.catalog.registry.Booker: an appointment at
    a desk…), in the `days` days from tomorrow; the booking is made in the acceptance's
    transaction, so a time taken meanwhile, or none chosen, refuses the acceptance. `when`:
    only for the answers it holds for (the certificate to collect at the town hall)."""

    booker: str
    label: Label
    when: Condition | None = None
    days: int = 30

    def applies(self, data: Mapping[str, Any]) -> bool:
        return self.when is None or self.when.holds(data)


@dataclass(frozen=True)
class ProcedureType:
    key: str
    name: Label
    service: str  # the MunicipalService key whose staff queue receives it
    summary: Label = ""
    life_events: tuple[str, ...] = ()
    steps: tuple[Step, ...] = ()
    handler_role: str = StaffRole.Role.CLERK
    # The time the town gives itself to answer, from the submission (shown to both sides).
    answer_days: int = 30
    extra_states: tuple[tuple[str, Label], ...] = ()
    transitions: tuple[Transition, ...] = DEFAULT_TRANSITIONS
    validate: Validate | None = None
    open_until: OpenUntil | None = None
    on_accept: OnAccept | None = None
    outcome_lines: OutcomeLines | None = None
    booking: BookingOutput | None = None
    keywords: tuple[str, ...] = field(default_factory=tuple)

    def fields(self) -> list[Field]:
        return [f for step in self.steps for f in step.fields]

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields() if f.name == name), None)

    def step(self, key: str) -> Step | None:
        return next((s for s in self.steps if s.key == key), None)

    def document_kinds(self) -> set[str]:
        return {kind for f in self.fields() for kind in getattr(f, "kinds", ())}

    def books(self, data: Mapping[str, Any]) -> BookingOutput | None:
        """The booking accepting a file with these answers produces, if any."""
        return self.booking if self.booking is not None and self.booking.applies(data) else None

    def transition(self, key: str) -> Transition | None:
        return next((t for t in self.transitions if t.key == key), None)

    def state_label(self, state: str, *, staff: bool = False) -> str:
        if staff and state in STAFF_STATE_LABELS:
            return str(STAFF_STATE_LABELS[state])
        labels = {**STATE_LABELS, **dict(self.extra_states)}
        return str(labels.get(state, STATE_LABELS[State.SUBMITTED]))

    def due_on(self, submitted_on: date) -> date:
        return submitted_on + timedelta(days=self.answer_days)

    def json_schema(self) -> dict:
        """The whole form as one JSON Schema object (the API's description of a type)."""
        fields = self.fields()
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": str(self.name),
            "type": "object",
            "properties": {f.name: f.json_schema() for f in fields},
            "required": [f.name for f in fields if f.required and f.shown_when is None],
            "x-steps": [
                {"key": s.key, "title": str(s.title), "fields": [f.name for f in s.fields]}
                for s in self.steps
            ],
        }


LIFE_EVENTS: dict[str, Label] = {
    "moving": _("Moving"),
    "birth": _("A birth"),
    "school": _("School"),
    "elections": _("Elections"),
    "family": _("Family and civil status"),
    "home": _("At home"),
}

_types: dict[str, ProcedureType] = {}


def register_procedure_type(procedure_type: ProcedureType) -> ProcedureType:
    """Declare a procedure type (from the owning service's AppConfig.ready). The same type
    again is harmless; another type under a taken key is a configuration error."""
    existing = _types.get(procedure_type.key)
    if existing is not None:
        if existing != procedure_type:
            raise ImproperlyConfigured(f"Procedure type {procedure_type.key!r} registered twice.")
        return existing
    names = [f.name for f in procedure_type.fields()]
    if len(names) != len(set(names)):
        raise ImproperlyConfigured(f"Procedure type {procedure_type.key!r} repeats a field.")
    for event in procedure_type.life_events:
        if event not in LIFE_EVENTS:
            raise ImproperlyConfigured(f"Unknown life event {event!r}.")
    _types[procedure_type.key] = procedure_type
    return procedure_type


def unregister_procedure_type(key: str) -> None:
    """Withdraw a type (tests declaring one of their own)."""
    _types.pop(key, None)


def procedure_type(key: str) -> ProcedureType | None:
    return _types.get(key)


def procedure_types() -> list[ProcedureType]:
    return list(_types.values())


def catalogue_entry(procedure_type: ProcedureType):
    """The type as the service registry lists it (Mon espace's procedures): its page."""
    from services.catalog.registry import Procedure

    return Procedure(procedure_type.key, procedure_type.name, f"/demarches/{procedure_type.key}/")
