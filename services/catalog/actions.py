"""The catalogue's writes: granting entitlements and deciding (and consuming) at a gate, with
the live state of the facilities that count who is inside."""

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from identity.actions import record_audit_entry
from identity.errors import DomainError
from identity.models import Facility, Person, User

from .models import AccessPoint, Entitlement, FacilityOccupancy, Presence
from .queries import FacilityRules, facility_rules

# Facilities whose desks identify a resident rather than check an entitlement.
IDENTIFYING_DESK_KINDS = frozenset({Facility.Kind.TOWN_HALL})


@dataclass(frozen=True)
class AccessDecision:
    """What `decide` answers. `reason` is a stable code readers and staff screens rely on."""

    granted: bool
    reason: str
    entitlement_id: str | None = None
    label: str = ""
    consumed: int = 0
    remaining: int | None = None
    valid_until: date | None = None

    def as_dict(self) -> dict:
        return {
            "entitlement": self.entitlement_id,
            "label": self.label,
            "consumed": self.consumed,
            "remaining": self.remaining,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
        }


@dataclass(frozen=True)
class _Candidate:
    pk: int
    public_id: str
    kind: str
    label: str
    entries_left: int | None
    valid_until: date


def _choose_entitlement(*, holder_id: int, facility_kind: str, day: date) -> _Candidate | None:
    """The entitlement that applies, row-locked: a pass first, then the entry book that
    expires first. Written as SQL once rather than built by the ORM at every tap: building
    and compiling the equivalent queryset cost ten times the query itself (make bench-taps)."""
    table = Entitlement._meta.db_table
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = (
        f"SELECT id, public_id, kind, label, entries_left, valid_until FROM {table} "  # noqa: S608
        "WHERE holder_id = %s AND facility_kind = %s AND revoked_at IS NULL "
        "AND valid_from <= %s AND valid_until >= %s AND (kind = %s OR entries_left > 0) "
        "ORDER BY CASE WHEN kind = %s THEN 0 ELSE 1 END, valid_until, id LIMIT 1" + lock
    )
    passes = Entitlement.Kind.PASS.value
    with connection.cursor() as cursor:
        cursor.execute(sql, [holder_id, facility_kind, day, day, passes, passes])
        row = cursor.fetchone()
    if row is None:
        return None
    valid_until = row[5] if isinstance(row[5], date) else date.fromisoformat(row[5])
    return _Candidate(row[0], row[1], row[2], row[3], row[4], valid_until)


def decide(*, holder_id: int, access_point: AccessPoint, at: datetime) -> AccessDecision:
    """Decide at an access point and consume what applies, inside the caller's transaction.

    At an entrance, in this order: `closed` outside the facility's opening hours (Paris local
    time, the school-holiday schedule during school holidays) or during an exceptional closure;
    `no_entitlement` without a pass valid that day or an entry book with entries left (a pass
    first, then the book that expires first); `capacity_reached` when today's occupancy has
    reached the facility's maximum; `already_inside` when the person entered and has not gone
    out within the anti-passback delay. Nothing is consumed or counted when refused.

    An exit always opens (people must be able to leave) and counts the person out; a desk
    checks without consuming and is never closed; a town-hall desk only identifies the person
    (`identified`).

    SQL: the facility's rules come from an in-process cache (queries.facility_rules), so a
    facility without a maximum occupancy nor anti-passback costs what it did before hours
    existed: the choice (row-locked, so two gates never spend the same entry twice) and, for an
    entry book, the decrement. Counting people in adds at most two: the place taken (with a
    maximum occupancy; it row-locks the facility's counter until commit) and the presence
    recorded (docs/cards.md)."""
    facility = access_point.facility
    rules = facility_rules(facility)
    day = timezone.localdate(at, timezone.get_default_timezone())
    # The live state is today's: a queued offline tap from an earlier day is judged on that
    # day's hours and entitlements, but counted neither in nor out.
    live = rules.tracks_presence and day == timezone.localdate(
        timezone=timezone.get_default_timezone()
    )
    if access_point.kind == AccessPoint.Kind.EXIT:
        if live:
            _count_out(holder_id=holder_id, facility_id=facility.pk, rules=rules, day=day)
        return AccessDecision(granted=True, reason="exit")
    if access_point.kind == AccessPoint.Kind.DESK and facility.kind in IDENTIFYING_DESK_KINDS:
        # A town-hall desk sells no entry: the card identifies the resident, for the services
        # that act at that desk (the registry's desk actions: waste-sorting bags…).
        return AccessDecision(granted=True, reason="identified")
    entrance = access_point.kind == AccessPoint.Kind.ENTRANCE
    if entrance and not rules.is_open(at):
        return AccessDecision(granted=False, reason="closed")
    candidate = _choose_entitlement(holder_id=holder_id, facility_kind=facility.kind, day=day)
    if candidate is None:
        return AccessDecision(granted=False, reason="no_entitlement")
    if entrance and live:
        refusal = _count_in(
            holder_id=holder_id, facility_id=facility.pk, rules=rules, at=at, day=day
        )
        if refusal is not None:
            return AccessDecision(granted=False, reason=refusal)
    consume = candidate.kind == Entitlement.Kind.ENTRIES and entrance
    remaining = candidate.entries_left
    if consume:
        Entitlement.objects.filter(pk=candidate.pk).update(entries_left=F("entries_left") - 1)
        remaining -= 1
    return AccessDecision(
        granted=True,
        reason="granted" if entrance else "valid",
        entitlement_id=candidate.public_id,
        label=candidate.label,
        consumed=1 if consume else 0,
        remaining=remaining,
        valid_until=candidate.valid_until,
    )


# --- Who is inside ---------------------------------------------------------------------------
# Two rows, always taken in the same order (the facility's counter, then the person's presence)
# by entrances and exits alike, so that they cannot deadlock. Services never read card's tap
# log (card is the floor above): the catalogue keeps this state itself, written only here.


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def _count_in(
    *, holder_id: int, facility_id: int, rules: FacilityRules, at: datetime, day: date
) -> str | None:
    """Take a place and mark the person inside, or say why not (and then change nothing)."""
    if rules.max_occupancy is not None and not _take_a_place(
        facility_id=facility_id, day=day, limit=rules.max_occupancy
    ):
        # A refusal path may cost a statement more: tell staff it is the same person again.
        inside = rules.anti_passback is not None and (
            Presence.objects.filter(
                facility_id=facility_id,
                holder_id=holder_id,
                entered_at__gte=_start_of(day),
                entered_at__gt=at - rules.anti_passback,
            ).exists()
        )
        return "already_inside" if inside else "capacity_reached"
    if not _mark_inside(holder_id=holder_id, facility_id=facility_id, rules=rules, at=at, day=day):
        if rules.max_occupancy is not None:
            _free_a_place(facility_id=facility_id, day=day)  # the counter row is ours: exact
        return "already_inside"
    return None


def _count_out(*, holder_id: int, facility_id: int, rules: FacilityRules, day: date) -> None:
    """An exit frees the place of a person counted in today. A second tap at the exit, or
    someone who came in yesterday, frees nothing."""
    freed = rules.max_occupancy is not None and _free_a_place(facility_id=facility_id, day=day)
    left = Presence.objects.filter(
        facility_id=facility_id, holder_id=holder_id, entered_at__gte=_start_of(day)
    ).update(entered_at=None)
    if freed and not left:
        FacilityOccupancy.objects.filter(facility_id=facility_id).update(inside=F("inside") + 1)


def _take_a_place(*, facility_id: int, day: date, limit: int) -> bool:
    """One place of today's occupancy, if one is left: a single conditional upsert that
    creates the facility's counter on its first entrance, starts it again from zero on the
    first entrance of a day, and holds its row lock until commit. On PostgreSQL a second
    entrance waits for that lock and then sees the place taken: two gates never give away the
    same last place (tests/services/catalog/test_occupancy_concurrency.py)."""
    if limit <= 0:
        return False
    table = FacilityOccupancy._meta.db_table
    same_day = f"{table}.day = excluded.day"
    sql = (
        f"INSERT INTO {table} (facility_id, day, inside) VALUES (%s, %s, 1) "  # noqa: S608
        f"ON CONFLICT (facility_id) DO UPDATE SET "
        f"inside = CASE WHEN {same_day} THEN {table}.inside + 1 ELSE 1 END, day = excluded.day "
        f"WHERE CASE WHEN {same_day} THEN {table}.inside ELSE 0 END < %s RETURNING inside"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [facility_id, connection.ops.adapt_datefield_value(day), limit])
        return cursor.fetchone() is not None


def _free_a_place(*, facility_id: int, day: date) -> bool:
    return bool(
        FacilityOccupancy.objects.filter(facility_id=facility_id, day=day, inside__gt=0).update(
            inside=F("inside") - 1
        )
    )


def _mark_inside(
    *, holder_id: int, facility_id: int, rules: FacilityRules, at: datetime, day: date
) -> bool:
    """Record the person's entrance, unless they are already inside (entered today, within the
    anti-passback delay, and not gone out since): one conditional upsert, atomic on the
    person's presence row."""
    table = Presence._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    sql = (
        f"INSERT INTO {table} (facility_id, holder_id, entered_at) VALUES (%s, %s, %s) "  # noqa: S608
        "ON CONFLICT (facility_id, holder_id) DO UPDATE SET entered_at = excluded.entered_at"
    )
    params = [facility_id, holder_id, adapt(at)]
    if rules.anti_passback is not None:
        sql += (
            f" WHERE {table}.entered_at IS NULL OR {table}.entered_at < %s"
            f" OR {table}.entered_at <= %s"
        )
        params += [adapt(_start_of(day)), adapt(at - rules.anti_passback)]
    with connection.cursor() as cursor:
        cursor.execute(sql + " RETURNING id", params)
        return cursor.fetchone() is not None


@transaction.atomic
def grant_entitlement(
    *,
    actor: User | None,
    holder: Person,
    kind: str,
    facility_kind: str,
    label: str,
    valid_from: date,
    valid_until: date,
    entries: int | None = None,
) -> Entitlement:
    """Give a person a pass or an entry book (a sale's fulfilment, a staff gesture, the demo)."""
    if valid_until < valid_from:
        raise DomainError(_("The end of the period is before its start."), field="valid_until")
    if kind == Entitlement.Kind.ENTRIES and (entries is None or entries <= 0 or entries > 1000):
        raise DomainError(_("An entry book holds between 1 and 1000 entries."), field="entries")
    if kind == Entitlement.Kind.PASS and entries is not None:
        raise DomainError(_("A pass has no entry count."), field="entries")
    entitlement = Entitlement.objects.create(
        holder=holder,
        kind=kind,
        facility_kind=facility_kind,
        label=label,
        valid_from=valid_from,
        valid_until=valid_until,
        entries_total=entries,
        entries_left=entries,
    )
    record_audit_entry(actor=actor, action="entitlement.granted", person=holder, target=label)
    return entitlement
