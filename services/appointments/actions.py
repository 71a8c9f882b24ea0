"""Every write of the appointments: booking, moving and cancelling an appointment (for oneself,
a child one is the guardian of, or a resident at the counter or on the phone), marking it
arrived or missed, blocking a slot.

A slot is never given twice: every change to a desk's places first locks the desk's row
(`_lock_desk`), then counts the slot's places taken (`queries.places_taken`). On PostgreSQL a
second booking waits for the lock and then counts the first one's place (READ COMMITTED):
the last place goes to one person only (tests/services/appointments/test_concurrency.py shows
the race without the lock). The same idempotency key from the same account books once."""

import logging
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from identity import queries as identity_queries
from identity.actions.audit import record_audit_entry
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import AuditEntry, Person, User
from identity.permissions import can_act_for

from . import ants, notices, queries
from .links import management_url
from .models import Appointment, Channel, Desk, SlotBlock

logger = logging.getLogger(__name__)

STAFF_CHANNELS = (Channel.COUNTER, Channel.PHONE)


def _lock_desk(desk_id: int) -> Desk:
    """Serialise every change to one desk's places until commit."""
    return Desk.objects.select_for_update().get(pk=desk_id)


def _audit_channel(channel: str) -> str:
    return {
        Channel.COUNTER: AuditEntry.Channel.COUNTER,
        Channel.PHONE: AuditEntry.Channel.PHONE,
        Channel.API: AuditEntry.Channel.API,
    }.get(channel, AuditEntry.Channel.WEB)


def _check_rights(*, actor: User, person: Person, desk: Desk, channel: str) -> None:
    if channel in STAFF_CHANNELS:
        if not queries.may_handle(actor, desk):
            raise Forbidden(_("You do not receive residents at this desk."))
    elif not can_act_for(actor, person):
        raise Forbidden(_("You cannot book for this person."))


def _check_desk_open_to(*, desk: Desk, person: Person, now: datetime) -> None:
    """A desk for the territory's residents refuses a household living elsewhere."""
    if not desk.residents_only:
        return
    address = identity_queries.current_address(person.household, on=timezone.localdate(now))
    if address is None or not address.commune.is_member:
        raise DomainError(
            _("This desk receives only the residents of the territory."),
            field="desk",
            code="not_resident",
        )


def _check_slot(*, desk: Desk, starts_at: datetime, now: datetime, staff: bool) -> None:
    """Refuse a time that is not a slot of the desk, past, or outside the booking window."""
    if not desk.active:
        raise DomainError(_("This desk does not take appointments."), field="desk", code="closed")
    if starts_at <= now:
        raise DomainError(_("This time is past."), field="starts_at", code="past")
    if queries.slot_at(desk, starts_at) is None:
        raise DomainError(
            _("The desk does not receive at this time (closed, or not the start of a slot)."),
            field="starts_at",
            code="not_a_slot",
        )
    earliest, latest = queries.booking_window(desk, now=now, staff=staff)
    if starts_at < earliest:
        raise DomainError(
            _("This slot is too close to book online: call or come to the desk."),
            field="starts_at",
            code="too_late",
        )
    if starts_at > latest:
        raise DomainError(
            _("Appointments open %(days)s days ahead: this slot is not open yet.")
            % {"days": desk.book_ahead_days},
            field="starts_at",
            code="too_early",
        )


def _taken_error() -> Conflict:
    return Conflict(
        _("This slot has just been taken: choose another one."),
        field="starts_at",
        code="slot_taken",
    )


def _declaration(appointment: Appointment, *, at: datetime) -> ants.Declaration:
    desk = appointment.desk
    return ants.Declaration(
        number=appointment.pre_application_number,
        meeting_point_id=desk.public_id,
        meeting_point=desk.name,
        starts_at=at,
        management_url=management_url(appointment),
    )


def _network_follows(appointment: Appointment) -> None:
    """After this transaction commits, bring the national network in step with the
    appointment (a pre-application number, the network configured); until it is, the
    appointment stays `ants_pending` for the sweep."""
    if not (appointment.pre_application_number and ants.enabled()):
        return
    Appointment.objects.filter(pk=appointment.pk).update(ants_pending=True)
    appointment.ants_pending = True
    pk = appointment.pk
    transaction.on_commit(lambda: sync_with_network(appointment_id=pk))


def sync_with_network(*, appointment_id: int) -> bool:
    """Declare at the national network what the appointment is now, releasing what it was: a
    booked (or held) appointment is declared at its start; a cancelled one, or one moved from
    the start declared, is released first. Runs after the commit that changed it, and again
    from the sweep while it fails (the network unreachable: logged with the appointment's id
    only). The row is locked meanwhile, so two runs never declare twice. Returns whether the
    network is in step."""
    if not ants.enabled():
        return False
    with transaction.atomic():
        appointment = (
            Appointment.objects.select_for_update()
            .select_related("desk", "desk__facility")
            .filter(pk=appointment_id)
            .first()
        )
        if appointment is None or not appointment.ants_pending:
            return True
        wanted = (
            None if appointment.status == Appointment.Status.CANCELLED else appointment.starts_at
        )
        try:
            declared = appointment.ants_declared_at
            if declared is not None and declared != wanted:
                ants.release(_declaration(appointment, at=declared))
                appointment.ants_declared_at = None
            if wanted is not None and appointment.ants_declared_at is None:
                ants.declare(_declaration(appointment, at=wanted))
                appointment.ants_declared_at = wanted
            appointment.ants_pending = False
        except ants.Unavailable as error:
            logger.warning("ants sync of appointment %s failed: %s", appointment.pk, error)
        appointment.save(update_fields=["ants_declared_at", "ants_pending"])
        return not appointment.ants_pending


def sync_pending_with_network(*, limit: int = 200) -> tuple[int, int]:
    """The sweep: every appointment the network is not in step with yet. Returns (in step
    now, still pending)."""
    done = failed = 0
    pending = Appointment.objects.filter(ants_pending=True).order_by("pk")
    for pk in pending.values_list("pk", flat=True)[:limit]:
        if sync_with_network(appointment_id=pk):
            done += 1
        else:
            failed += 1
    return done, failed


def _pre_application(*, desk: Desk, number: str) -> str:
    """The desk's pre-application number, checked: its format, not used by another live
    appointment here, and (the network configured) validated and free at the ANTS."""
    if not desk.needs_pre_application:
        return ""
    if not number.strip():
        raise DomainError(
            _("Give the pre-application number of your online application."),
            field="pre_application_number",
            code="required",
        )
    number = ants.check_format(number)
    if Appointment.objects.filter(
        pre_application_number=number, status=Appointment.Status.BOOKED
    ).exists():
        raise DomainError(
            _("This pre-application number already holds an appointment: cancel it first."),
            field="pre_application_number",
            code="number_used",
        )
    if ants.enabled():
        ants.check(number)
    return number


@transaction.atomic
def book_appointment(
    *,
    actor: User,
    person: Person,
    desk: Desk,
    starts_at: datetime,
    channel: str = Channel.WEB,
    idempotency_key: str = "",
    pre_application_number: str = "",
    now: datetime | None = None,
) -> Appointment:
    """Book a place of the desk's slot at `starts_at` for `person`: the actor themself or a
    child in their care online, anyone for staff of the desk at the counter or on the phone
    (`channel`). Refused, nothing written, when the time is not a bookable slot, the person
    already has an appointment to come at this desk, the pre-application number (passport
    desk) is missing, malformed or used, or the slot is full (Conflict `slot_taken`). The same
    `idempotency_key` from the same actor returns the first appointment."""
    now = now or timezone.now()
    if idempotency_key:
        already = Appointment.objects.filter(booked_by=actor, idempotency_key=idempotency_key)
        if first := already.first():
            return first
    _check_rights(actor=actor, person=person, desk=desk, channel=channel)
    _check_desk_open_to(desk=desk, person=person, now=now)
    staff = channel in STAFF_CHANNELS
    _check_slot(desk=desk, starts_at=starts_at, now=now, staff=staff)
    number = _pre_application(desk=desk, number=pre_application_number)
    desk = _lock_desk(desk.pk)
    if idempotency_key:  # the same request, sent again while the first held the lock
        already = Appointment.objects.filter(booked_by=actor, idempotency_key=idempotency_key)
        if first := already.first():
            return first
    if queries.live_for(person, desk, now=now) is not None:
        raise Conflict(
            _("%(name)s already has an appointment to come at this desk: move it instead.")
            % {"name": person.first_name},
            field="person",
            code="already_booked",
        )
    if queries.places_taken(desk, starts_at) >= desk.stations:
        raise _taken_error()
    appointment = Appointment.objects.create(
        desk=desk,
        person=person,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=desk.slot_minutes),
        channel=channel,
        booked_by=actor,
        idempotency_key=idempotency_key,
        pre_application_number=number,
        created_at=now,
    )
    record_audit_entry(
        actor=actor,
        action="appointments.booked",
        person=person,
        target=appointment.public_id,
        channel=_audit_channel(channel),
    )
    _network_follows(appointment)
    notices.confirmed(appointment)
    return appointment


def _appointment_for_update(appointment: Appointment) -> Appointment:
    _lock_desk(appointment.desk_id)  # the desk first, always: no deadlock with booking
    return (
        Appointment.objects.select_for_update()
        .select_related("desk", "person")
        .get(pk=appointment.pk)
    )


def _check_change(*, actor: User, appointment: Appointment, now: datetime) -> bool:
    """May `actor` move or cancel it now? Returns whether they act as staff of its desk."""
    staff = queries.may_handle(actor, appointment.desk)
    if not staff and not can_act_for(actor, appointment.person):
        raise Forbidden(_("You cannot change this appointment."))
    if appointment.status != Appointment.Status.BOOKED:
        raise DomainError(
            _("This appointment is no longer booked."), field="appointment", code="not_booked"
        )
    limit = appointment.starts_at - timedelta(minutes=appointment.desk.cancel_notice_minutes)
    if not staff and now > limit:
        raise DomainError(
            _("It is too late to change this appointment online: call the desk."),
            field="appointment",
            code="too_late",
        )
    return staff


@transaction.atomic
def cancel_appointment(
    *,
    actor: User,
    appointment: Appointment,
    reason: str = "",
    channel: str = Channel.WEB,
    now: datetime | None = None,
) -> Appointment:
    """Cancel a booked appointment: its place is free again, its pre-application number
    released at the ANTS. A resident cancels up to the desk's notice, staff at any time."""
    now = now or timezone.now()
    appointment = _appointment_for_update(appointment)
    _check_change(actor=actor, appointment=appointment, now=now)
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancelled_at = now
    appointment.cancel_reason = reason[:200]
    appointment.save(update_fields=["status", "cancelled_at", "cancel_reason"])
    record_audit_entry(
        actor=actor,
        action="appointments.cancelled",
        person=appointment.person,
        target=appointment.public_id,
        reason=reason[:200],
        channel=_audit_channel(channel),
    )
    _network_follows(appointment)
    if not can_act_for(actor, appointment.person):
        notices.cancelled_by_the_desk(appointment)
    return appointment


@transaction.atomic
def move_appointment(
    *,
    actor: User,
    appointment: Appointment,
    starts_at: datetime,
    channel: str = Channel.WEB,
    now: datetime | None = None,
) -> Appointment:
    """Move a booked appointment to another slot of its desk with a place left (the same
    checks as booking it); the ANTS declaration follows it."""
    now = now or timezone.now()
    staff = _check_change(actor=actor, appointment=appointment, now=now)
    _check_slot(desk=appointment.desk, starts_at=starts_at, now=now, staff=staff)
    appointment = _appointment_for_update(appointment)
    _check_change(actor=actor, appointment=appointment, now=now)
    if appointment.starts_at == starts_at:
        return appointment
    if queries.places_taken(appointment.desk, starts_at) >= appointment.desk.stations:
        raise _taken_error()
    was = timezone.localtime(appointment.starts_at)
    appointment.starts_at = starts_at
    appointment.ends_at = starts_at + timedelta(minutes=appointment.desk.slot_minutes)
    appointment.reminded_at = None
    appointment.save(update_fields=["starts_at", "ends_at", "reminded_at"])
    record_audit_entry(
        actor=actor,
        action="appointments.moved",
        person=appointment.person,
        target=appointment.public_id,
        channel=_audit_channel(channel),
        changes={"starts_at": [was.isoformat(), timezone.localtime(starts_at).isoformat()]},
    )
    _network_follows(appointment)
    notices.confirmed(appointment)
    return appointment


@transaction.atomic
def mark_appointment(
    *, actor: User, appointment: Appointment, arrived: bool, now: datetime | None = None
) -> Appointment:
    """Staff of the desk say the resident came, or did not (once the slot has started). Saying
    it again changes the mark (a late arrival)."""
    now = now or timezone.now()
    if not queries.may_handle(actor, appointment.desk):
        raise Forbidden(_("You do not receive residents at this desk."))
    appointment = _appointment_for_update(appointment)
    if appointment.status == Appointment.Status.CANCELLED:
        raise DomainError(_("This appointment was cancelled."), code="not_booked")
    if not arrived and appointment.starts_at > now:
        raise DomainError(
            _("A resident is absent only once the appointment has started."), code="not_started"
        )
    if timezone.localdate(appointment.starts_at) > timezone.localdate(now):
        raise DomainError(_("This appointment is not today."), code="not_today")
    appointment.status = Appointment.Status.ARRIVED if arrived else Appointment.Status.NO_SHOW
    appointment.marked_at = now
    appointment.save(update_fields=["status", "marked_at"])
    record_audit_entry(
        actor=actor,
        action="appointments.arrived" if arrived else "appointments.no_show",
        person=appointment.person,
        target=appointment.public_id,
        channel=AuditEntry.Channel.COUNTER,
    )
    return appointment


@transaction.atomic
def block_slot(
    *, actor: User, desk: Desk, starts_at: datetime, reason: str = "", now: datetime | None = None
) -> SlotBlock:
    """Take one station of a slot out of booking: refused when its places are all taken
    (cancel an appointment first) or the time is not a slot of the desk to come."""
    now = now or timezone.now()
    if not queries.may_handle(actor, desk):
        raise Forbidden(_("You do not receive residents at this desk."))
    if starts_at <= now or queries.slot_at(desk, starts_at) is None:
        raise DomainError(
            _("This is not a slot to come of this desk."), field="starts_at", code="not_a_slot"
        )
    desk = _lock_desk(desk.pk)
    if queries.places_taken(desk, starts_at) >= desk.stations:
        raise _taken_error()
    block = SlotBlock.objects.create(
        desk=desk, starts_at=starts_at, reason=reason[:120], blocked_by=actor, created_at=now
    )
    record_audit_entry(
        actor=actor,
        action="appointments.slot_blocked",
        target=desk.public_id,
        reason=reason[:120],
        channel=AuditEntry.Channel.COUNTER,
    )
    return block


@transaction.atomic
def free_slot(*, actor: User, block: SlotBlock) -> None:
    """Give a blocked station back to booking."""
    if not queries.may_handle(actor, block.desk):
        raise Forbidden(_("You do not receive residents at this desk."))
    _lock_desk(block.desk_id)
    SlotBlock.objects.filter(pk=block.pk).delete()
    record_audit_entry(
        actor=actor,
        action="appointments.slot_freed",
        target=block.desk.public_id,
        channel=AuditEntry.Channel.COUNTER,
    )


def record_agenda_viewed(*, actor: User, desk: Desk) -> None:
    """Staff opened a desk's list of residents: in the audit trail."""
    record_audit_entry(
        actor=actor,
        action="appointments.agenda_viewed",
        target=desk.public_id,
        channel=AuditEntry.Channel.COUNTER,
    )


def find_resident(
    *, actor: User, desk: Desk, last_name: str, birth_date: date, channel: str
) -> list[Person]:
    """At the counter or on the phone, staff of the desk find the resident to book for by last
    name and birth date (both exact, so a search cannot browse the town): audited."""
    if not queries.may_handle(actor, desk):
        raise Forbidden(_("You do not receive residents at this desk."))
    if channel not in STAFF_CHANNELS:
        raise DomainError(_("Say whether the resident is here or on the phone."), field="channel")
    found = list(
        Person.objects.filter(last_name__iexact=last_name.strip(), birth_date=birth_date)
        .select_related("household")
        .order_by("first_name")[:20]
    )
    record_audit_entry(
        actor=actor,
        action="appointments.resident_found",
        target=f"{len(found)} results",
        channel=_audit_channel(channel),
    )
    return found


def send_reminders(*, now: datetime | None = None) -> int:
    """Remind each booked appointment of tomorrow (the local day) once: the row is locked and
    stamped `reminded_at` in the transaction that notifies (with a dedupe key behind it), so a
    second run, or two at once, remind nobody twice. Returns how many were reminded."""
    now = now or timezone.now()
    sent = 0
    for pk in queries.due_reminders(now=now):
        with transaction.atomic():
            appointment = (
                Appointment.objects.select_for_update()
                .filter(pk=pk, status=Appointment.Status.BOOKED, reminded_at__isnull=True)
                .select_related("desk", "desk__facility", "person")
                .first()
            )
            if appointment is None:
                continue
            notices.reminder(appointment)
            appointment.reminded_at = now
            appointment.save(update_fields=["reminded_at"])
            sent += 1
    return sent
