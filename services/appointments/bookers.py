"""What the appointments book for others through the service registry (a `Booker`,
services.catalog.registry): an appointment at the town hall's civil-status desk, where a
resident collects what a procedure produced (a civil-status certificate handed over at the
counter). The procedures engine asks for it by key when the clerk accepts such a file; the
clerk books at the counter, as for any appointment made for a resident (channel "counter":
the desk's rights, its places under its lock, the confirmation with its calendar file)."""

from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from identity.errors import DomainError
from identity.models import Person, User
from services.catalog.registry import Booked, Booker, Opening

from . import queries
from .actions import book_appointment
from .models import Channel, Desk

CIVIL_STATUS_DESK = "appointments.civil_status_desk"


def _desks():
    return queries.open_desks().filter(kind=Desk.Kind.CIVIL_STATUS, needs_pre_application=False)


def _place(desk: Desk) -> str:
    return f"{desk.name}, {desk.address or desk.facility.name}"


def _when(starts_at: datetime) -> str:
    """ "mardi 8 décembre 2026 à 09:15": the weekday in lower case, as French writes it."""
    local = timezone.localtime(starts_at)
    day = f"{date_format(local.date(), 'l').lower()} {date_format(local.date(), 'j F Y')}"
    return _("%(day)s at %(time)s") % {"day": day, "time": local.strftime("%H:%M")}


def civil_status_openings(person: Person, first: date, last: date) -> list[Opening]:
    """The free times of the civil-status desks, soonest first."""
    found = []
    for desk in _desks():
        for slot in queries.bookable_slots(desk, first, last, staff=True):
            label = f"{_when(slot.starts_at)} — {_place(desk)}"
            found.append(
                (slot.starts_at, Opening(f"{desk.public_id}@{slot.starts_at.isoformat()}", label))
            )
    return [opening for _start, opening in sorted(found, key=lambda pair: pair[0])]


def book_at_civil_status_desk(
    *, actor: User, person: Person, opening: str, reference: str
) -> Booked:
    """Book the opening chosen (a Conflict `slot_taken` when it was taken meanwhile). The
    file asking (`reference`) is locked by its own acceptance: no idempotency key is needed."""
    desk_id, _at, when = opening.partition("@")
    desk = _desks().filter(public_id=desk_id).first()
    try:
        starts_at = datetime.fromisoformat(when)
    except ValueError:
        starts_at = None
    if desk is None or starts_at is None or timezone.is_naive(starts_at):
        raise DomainError(_("Choose one of the times offered."), field="starts_at")
    appointment = book_appointment(
        actor=actor,
        person=person,
        desk=desk,
        starts_at=starts_at,
        channel=Channel.COUNTER,
    )
    return Booked(
        reference=appointment.public_id,
        starts_at=appointment.starts_at,
        when=_when(appointment.starts_at),
        place=_place(desk),
    )


CIVIL_STATUS_BOOKER = Booker(
    key=CIVIL_STATUS_DESK,
    label=gettext_lazy("An appointment at the civil-status desk"),
    openings=civil_status_openings,
    book=book_at_civil_status_desk,
)
