"""Reads about cards shared by pages, the API and snapshots."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core import signing
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import ExtractHour, TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from identity.models import AuditEntry, Facility, Person, User
from identity.permissions import Capability, has_capability
from services.catalog.models import AccessPoint, Entitlement

from .models import Card, Tap

PHOTO_URL_MAX_AGE = 300  # seconds: long enough for a desk screen, too short to be passed on
_photo_signer = signing.TimestampSigner(salt="sesame.card.photo")


def signed_photo_url(card_public_id: str) -> str:
    """A short-lived address of a card's photo, for a staff desk screen: the signature is the
    permission, so the desk's browser needs no resident-file rights."""
    token = _photo_signer.sign(card_public_id)
    return reverse("card:photo", args=[card_public_id]) + f"?s={token}"


def photo_signature_is_valid(card_public_id: str, token: str) -> bool:
    try:
        return _photo_signer.unsign(token, max_age=PHOTO_URL_MAX_AGE) == card_public_id
    except signing.BadSignature:
        return False


def cards_of_holders(holder_ids: list[int]):
    return Card.objects.filter(holder_id__in=holder_ids).select_related("holder")


# --- Staff desk ----------------------------------------------------------------------------

DESK_HISTORY_LENGTH = 10


def desk_access_points(user) -> list[AccessPoint]:
    """The access points where `user` may check cards: SCAN_CARDS at their facility."""
    points = AccessPoint.objects.select_related("facility").order_by("facility__name", "name")
    return [
        point
        for point in points
        if has_capability(user, Capability.SCAN_CARDS, facility=point.facility)
    ]


# A desk serves the holder of a card checked there (services' desk actions): the tap must be
# this recent, recorded at that access point by this staff member or by a reader there, and
# name a holder whose card was accepted as theirs (the catalogue then decided, granted or not).
DESK_SERVICE_WINDOW = timedelta(minutes=5)
DESK_SERVICE_REASONS = frozenset(
    {
        "granted",
        "valid",
        "identified",
        "exit",
        "no_entitlement",
        "closed",
        "capacity_reached",
        "already_inside",
    }
)


def tap_identifies_holder(tap: Tap, *, access_point: AccessPoint, user, now: datetime) -> bool:
    """Whether staff at `access_point` may act for the holder of `tap` (see above)."""
    return (
        tap.holder_id is not None
        and tap.access_point_id == access_point.pk
        and (tap.staff_id == user.pk if tap.reader_id is None else tap.staff_id is None)
        and not tap.offline
        and tap.reason in DESK_SERVICE_REASONS
        and now - DESK_SERVICE_WINDOW <= tap.received_at <= now
    )


def desk_service_tap(access_point: AccessPoint, user, tap_id: str) -> Tap | None:
    """The tap a desk form names (its id, as the desk shows it), if it identifies a holder
    staff may serve now; the holder and their household come with it."""
    if not str(tap_id).isdigit():
        return None
    tap = (
        Tap.objects.select_related("holder__household")
        .filter(pk=int(tap_id), access_point=access_point)
        .first()
    )
    now = timezone.now()
    if tap is None or not tap_identifies_holder(tap, access_point=access_point, user=user, now=now):
        return None
    return tap


def desk_taps(access_point: AccessPoint, *, limit: int = DESK_HISTORY_LENGTH) -> list[Tap]:
    """The newest taps at an access point (readers' and staff's), newest first."""
    return list(
        Tap.objects.filter(access_point=access_point)
        .select_related("card")
        .order_by("-received_at", "-pk")[:limit]
    )


# --- Card pages (Mes cartes, the Mon espace panel, the clerk's card desk) -------------------


def people_acted_for(person: Person) -> list[Person]:
    """The resident and the children they are a guardian of: whose cards they manage
    (identity.permissions.can_act_for decides the same way)."""
    wards = Person.objects.filter(
        guardians__guardian=person, guardians__ended_on__isnull=True
    ).order_by("birth_date", "pk")
    return [person, *wards]


@dataclass
class HolderCards:
    """One person's cards as Mes cartes shows them: the live card and phone pass (at most
    one of each, a database constraint), and the ended ones."""

    person: Person
    card: Card | None = None
    phone_pass: Card | None = None
    history: list[Card] = field(default_factory=list)

    @property
    def live(self) -> list[Card]:
        return [card for card in (self.card, self.phone_pass) if card is not None]


def cards_overview(person: Person) -> list[HolderCards]:
    """The cards of a resident and of the children in their care, in two queries."""
    people = people_acted_for(person)
    rows = {someone.pk: HolderCards(person=someone) for someone in people}
    for card in Card.objects.filter(holder_id__in=rows).order_by("-requested_at", "-pk"):
        row = rows[card.holder_id]
        card.holder = row.person
        if card.status not in Card.LIVE_STATUSES:
            row.history.append(card)
        elif card.kind == Card.Kind.NFC:
            row.card = card
        else:
            row.phone_pass = card
    _attach_rejection_reasons([card for row in rows.values() for card in row.history])
    return list(rows.values())


def _attach_rejection_reasons(cards: list[Card]) -> None:
    """A rejected request tells the resident why: the clerk's reason is in the audit entry."""
    rejected = {card.number: card for card in cards if card.status == Card.Status.REJECTED}
    if not rejected:
        return
    for number, reason in AuditEntry.objects.filter(
        action="card.rejected", target__in=rejected
    ).values_list("target", "reason"):
        rejected[number].rejection_reason = reason


def live_cards_for(person: Person) -> list[Card]:
    """The live cards and passes of a resident and of the children in their care (the cards
    panel of Mon espace)."""
    return [card for row in cards_overview(person) for card in row.live]


def card_queue(status: str):
    """Physical cards at one step of production, oldest request first (the clerk's queue)."""
    return (
        Card.objects.filter(kind=Card.Kind.NFC, status=status)
        .select_related("holder")
        .order_by("requested_at", "pk")
    )


# --- Attendance statistics (Agents > Fréquentation) ----------------------------------------


def attendance_facilities(user: User) -> list[Facility]:
    """The facilities with access points whose attendance `user` sees, by name (a pool agent:
    their pool; town-wide staff: all)."""
    facilities = Facility.objects.filter(access_points__isnull=False).distinct().order_by("name")
    return [
        facility
        for facility in facilities
        if has_capability(user, Capability.VIEW_ATTENDANCE, facility=facility)
    ]


def taps_to_review(facilities: list[Facility]) -> QuerySet[Tap]:
    """Taps staff should look at, newest first: let in offline but not honoured by the server,
    or whose card counter jumped (taps the server never saw)."""
    return (
        Tap.objects.filter(
            Q(not_honoured=True) | Q(counter_jump=True), access_point__facility__in=facilities
        )
        .select_related("access_point__facility", "card", "holder")
        .order_by("-received_at", "-pk")
    )


ATTENDANCE_MAX_DAYS = 366


@dataclass
class Attendance:
    """Entries at a facility over a period of local days (Europe/Paris), both ends included:
    one count per day (every day of the period, zero included), one total per hour of the
    day (0–23), and their average per day of the period."""

    start: date
    end: date
    days: list[tuple[date, int]]
    hours: list[int]

    @property
    def total(self) -> int:
        return sum(count for _day, count in self.days)

    @property
    def day_count(self) -> int:
        return len(self.days)

    @property
    def hourly_averages(self) -> list[float]:
        return [count / self.day_count for count in self.hours] if self.day_count else []


def attendance(facility, *, start: date, end: date) -> Attendance:
    """Granted taps at the facility's entrances (manual entries included; exits, desks and
    refusals are not entries), per local day and per local hour: two aggregate queries."""
    zone = timezone.get_default_timezone()
    since = timezone.make_aware(datetime.combine(start, time.min), zone)
    until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), zone)
    entries = Tap.objects.filter(
        access_point__facility=facility,
        access_point__kind=AccessPoint.Kind.ENTRANCE,
        granted=True,
        received_at__gte=since,
        received_at__lt=until,
    ).order_by()
    per_day = dict(
        entries.annotate(day=TruncDate("received_at", tzinfo=zone))
        .values("day")
        .annotate(count=Count("pk"))
        .values_list("day", "count")
    )
    per_hour = dict(
        entries.annotate(hour=ExtractHour("received_at", tzinfo=zone))
        .values("hour")
        .annotate(count=Count("pk"))
        .values_list("hour", "count")
    )
    every_day = [start + timedelta(days=n) for n in range(max((end - start).days + 1, 0))]
    days = [(day, per_day.get(day, 0)) for day in every_day]
    return Attendance(
        start=start, end=end, days=days, hours=[per_hour.get(hour, 0) for hour in range(24)]
    )


# --- The library's own system (ILS): members on a day; the borrower number is the card number

# The most members one JSON page returns; the CSV file holds them all.
MAX_PAGE = 5000


@dataclass(frozen=True)
class LibraryMember:
    """One row of the export: the least the ILS needs to lend to, and tell namesakes apart."""

    borrower_number: str
    first_name: str
    last_name: str
    birth_year: int
    membership_valid_until: date
    card_expires_on: date | None


def can_export_library_members(user: User) -> bool:
    """Whether `user` scans cards at a library: a role at a library, or a town-wide role that
    covers every facility. Asked of has_capability, never decided here."""
    return any(
        has_capability(user, Capability.SCAN_CARDS, facility=library)
        for library in Facility.objects.filter(kind=Facility.Kind.LIBRARY).only("pk")
    )


def _memberships(on: date) -> QuerySet[Entitlement]:
    """Library entitlements usable on `on`, as catalog.queries.current_entitlements reads them
    (a pass in its period, or an entry book with entries left), for the outer card's holder."""
    return Entitlement.objects.filter(
        holder_id=OuterRef("holder_id"),
        facility_kind=Facility.Kind.LIBRARY,
        revoked_at__isnull=True,
        valid_from__lte=on,
        valid_until__gte=on,
    ).filter(Q(kind=Entitlement.Kind.PASS) | Q(entries_left__gt=0))


def library_members(*, on: date, after: str = "", limit: int | None = None) -> list[LibraryMember]:
    """Every card usable on `on` (active, not past its date; NFC cards and phone passes alike,
    one row per card) whose holder is a library member that day, ordered by card number.

    One query whatever the number of members. `after` (a card number) and `limit` page through
    them by keyset, which stays stable while cards are issued during the import."""
    cards = (
        Card.objects.filter(status=Card.Status.ACTIVE)
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=on))
        .filter(Exists(_memberships(on)))
        .annotate(
            membership_until=Subquery(
                _memberships(on).order_by("-valid_until").values("valid_until")[:1]
            )
        )
        .order_by("number")
    )
    if after:
        cards = cards.filter(number__gt=after)
    rows = cards.values_list(
        "number",
        "holder__first_name",
        "holder__last_name",
        "holder__birth_date",
        "membership_until",
        "expires_on",
    )
    if limit is not None:
        rows = rows[:limit]
    return [
        LibraryMember(
            borrower_number=number,
            first_name=first_name,
            last_name=last_name,
            birth_year=birth_date.year,
            membership_valid_until=until,
            card_expires_on=expires_on,
        )
        for number, first_name, last_name, birth_date, until, expires_on in rows
    ]


def cards_block_removal(person: Person, day: date) -> str | None:
    """identity's removal check: a card in use stays with its household until it is handed
    back or reported lost (its holder's guardians manage it)."""
    live = [status for status in Card.LIVE_STATUSES if status != Card.Status.SUSPENDED]
    if not Card.objects.filter(holder=person, status__in=live).exists():
        return None
    return gettext("a card or a phone pass is in use (block it in My cards first)")
