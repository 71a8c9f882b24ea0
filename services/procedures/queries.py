"""Reads of the procedures engine: the catalogue, a resident's files, a service's queue and its
export, a file's timeline for each side."""

import unicodedata
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from identity.models import Person, User
from identity.permissions import can_handle_procedures, person_of

from .models import ProcedureEvent, ProcedureFile
from .types import LIFE_EVENTS, ProcedureType, State, procedure_types


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def catalogue(*, words: str = "", life_event: str = "") -> list[ProcedureType]:
    """The procedure types a resident can start, matching every word typed (in the name, the
    summary or the keywords, accents and case ignored) and the life event chosen."""
    wanted = _plain(words).split()
    found = []
    for kind in procedure_types():
        if life_event and life_event not in kind.life_events:
            continue
        haystack = _plain(" ".join([str(kind.name), str(kind.summary), *kind.keywords]))
        if all(word in haystack for word in wanted):
            found.append(kind)
    return sorted(found, key=lambda kind: _plain(kind.name))


def life_events() -> list[tuple[str, str]]:
    used = {event for kind in procedure_types() for event in kind.life_events}
    return [(code, str(label)) for code, label in LIFE_EVENTS.items() if code in used]


def files_of(user: User) -> QuerySet[ProcedureFile]:
    """The resident's own files (started online or for them at the counter), newest first."""
    person = person_of(user)
    if person is None:
        return ProcedureFile.objects.none()
    return ProcedureFile.objects.filter(applicant=person).order_by("-updated_at")


def file_for_resident(user: User, public_id: str) -> ProcedureFile | None:
    """A file the signed-in resident may follow (theirs), or None."""
    return files_of(user).filter(public_id=public_id).first()


def resident_timeline(file: ProcedureFile) -> list[ProcedureEvent]:
    """What the resident sees: everything but the staff's internal lines."""
    return list(file.events.filter(internal=False).select_related("actor__person"))


def staff_timeline(file: ProcedureFile) -> list[ProcedureEvent]:
    return list(file.events.select_related("actor__person"))


def handled_types(user: User) -> list[ProcedureType]:
    """The procedure types a staff member handles (by their roles)."""
    return [k for k in procedure_types() if can_handle_procedures(user, role=k.handler_role)]


def handled_services(user: User) -> list[str]:
    return sorted({kind.service for kind in handled_types(user)})


@dataclass(frozen=True)
class QueueFilters:
    service: str = ""
    type_key: str = ""
    state: str = ""
    mine: bool = False
    late_first: bool = True
    words: str = ""
    closed: bool = False


def queue(user: User, filters: QueueFilters) -> QuerySet[ProcedureFile]:
    """A service's submitted files the staff member handles, filtered: open files (or closed
    ones), of one type, in one state, assigned to them; late ones first, then by deadline."""
    types = [
        k.key for k in handled_types(user) if not filters.service or k.service == filters.service
    ]
    files = (
        ProcedureFile.objects.filter(type_key__in=types)
        .exclude(state=State.DRAFT)
        .select_related("applicant", "assigned_to__person")
    )
    files = files.filter(is_open=not filters.closed)
    if filters.type_key:
        files = files.filter(type_key=filters.type_key)
    if filters.state:
        files = files.filter(state=filters.state)
    if filters.mine:
        files = files.filter(assigned_to=user)
    for word in filters.words.split():
        files = files.filter(
            Q(applicant__last_name__icontains=word) | Q(applicant__first_name__icontains=word)
        )
    today = timezone.localdate()
    if filters.late_first:
        files = files.annotate(
            late=Case(
                When(due_on__lt=today, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        ).order_by("late", "due_on", "submitted_at")
    else:
        files = files.order_by("-submitted_at")
    return files


def file_for_staff(user: User, public_id: str) -> ProcedureFile | None:
    file = (
        ProcedureFile.objects.select_related("applicant", "household")
        .filter(public_id=public_id)
        .exclude(state=State.DRAFT, channel="web")
        .first()
    )
    if file is None:
        return None
    kind = file.type
    if kind is None or not can_handle_procedures(user, role=kind.handler_role):
        return None
    return file


def colleagues(file: ProcedureFile) -> list[User]:
    """The staff a file can be assigned to: those holding its type's handling role."""
    kind = file.type
    users = (
        User.objects.filter(
            staff_roles__role=kind.handler_role, staff_roles__revoked_at__isnull=True
        )
        .distinct()
        .order_by("first_name", "email")
    )
    return [u for u in users if can_handle_procedures(u, role=kind.handler_role)]


def panel_context(request, person: Person) -> dict:
    """Mon espace > My procedures: the resident's files in progress and their drafts."""
    files = list(files_of(request.user).exclude(state__in=[State.DONE, State.WITHDRAWN])[:6])
    return {"procedure_files": files}


def open_files_of(household, type_key: str) -> list[ProcedureFile]:
    """A household's open files of one type (a service looking at its own requests)."""
    return list(ProcedureFile.objects.filter(household=household, type_key=type_key, is_open=True))
