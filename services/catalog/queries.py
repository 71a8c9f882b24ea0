"""Reads of the catalogue shared by cards, readers' snapshots and Mon espace, and the rules of a
facility's entrances as `decide` reads them at every tap (cached in-process)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import monotonic

from django.db.models import Q, QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext

from identity.errors import DomainError
from identity.models import Facility
from identity.permissions import can_act_for
from identity.schooling.calendar import holiday_periods
from identity.schooling.models import SchoolHoliday, SchoolYear

from . import eligibility
from .models import (
    Entitlement,
    FacilityAccessRules,
    FacilityClosure,
    FacilityOccupancy,
    OpeningHours,
    Product,
)
from .registry import procedures
from .tariffs import quote

# How long a process trusts the rules it read for a facility. An edit in the admin clears the
# entry at once in the process that saved it; the other processes see it within this delay.
RULES_CACHE_SECONDS = 30
# Closures that ended longer ago than this are not loaded: an offline gate's queued taps are
# judged at their own time, and they are uploaded well within it.
CLOSURES_LOOKBACK = timedelta(days=31)


def current_entitlements(*, holder_ids: list[int], on: date) -> QuerySet[Entitlement]:
    """Entitlements usable on a day: passes and bookings in their period, entry books with
    entries left."""
    return Entitlement.objects.filter(
        holder_id__in=holder_ids,
        revoked_at__isnull=True,
        valid_from__lte=on,
        valid_until__gte=on,
    ).filter(Q(kind__in=[Entitlement.Kind.PASS, Entitlement.Kind.BOOKING]) | Q(entries_left__gt=0))


def held_at(*, holder_id: int, facility: Facility, on: date) -> list[Entitlement]:
    """Everything a person can use at a facility on a day, in the order `decide` uses them:
    passes and memberships (with their end), that day's bookings, then entry books with
    entries left (the one expiring first first). What a desk shows after a tap."""
    rank = {Entitlement.Kind.PASS: 0, Entitlement.Kind.BOOKING: 1, Entitlement.Kind.ENTRIES: 2}
    held = current_entitlements(holder_ids=[holder_id], on=on).filter(
        Q(facility__isnull=True) | Q(facility=facility), facility_kind=facility.kind
    )
    return sorted(held, key=lambda e: (rank.get(e.kind, 3), e.valid_until, e.pk))


def still_held(*, holder_id: int, on: date) -> QuerySet[Entitlement]:
    """What a person holds that is not spent yet: usable on the day or later (a pass, a
    booking to come, an entry book with entries left)."""
    return Entitlement.objects.filter(
        holder_id=holder_id, revoked_at__isnull=True, valid_until__gte=on
    ).filter(Q(kind__in=[Entitlement.Kind.PASS, Entitlement.Kind.BOOKING]) | Q(entries_left__gt=0))


def entitlements_block_removal(person, day: date) -> str | None:
    """identity's removal check: a member holding passes or entries keeps them here."""
    labels = sorted(set(still_held(holder_id=person.pk, on=day).values_list("label", flat=True)))
    if not labels:
        return None
    return gettext("what they still hold (%(what)s) would be lost") % {"what": ", ".join(labels)}


@dataclass(frozen=True)
class FacilityRules:
    """Everything `decide` needs to know about a facility's entrances, in memory."""

    max_occupancy: int | None = None
    anti_passback: timedelta | None = None
    # (schedule, weekday) → the day's slots (opens, closes); empty when no slot at all.
    hours: Mapping[tuple[str, int], tuple[tuple[time, time], ...]] = field(default_factory=dict)
    closures: tuple[tuple[datetime, datetime], ...] = ()
    # School holidays as (first day, day classes resume); loaded only for a facility that
    # has a holiday schedule.
    holidays: tuple[tuple[date, date], ...] = ()
    has_holiday_schedule: bool = False
    # The product whose price an entrance charges to the wallet when nothing else applies.
    pay_per_entry_product_id: int | None = None

    @property
    def tracks_presence(self) -> bool:
        """Whether decide keeps who is inside (for the occupancy or the anti-passback)."""
        return self.max_occupancy is not None or self.anti_passback is not None

    def schedule_on(self, day: date) -> str:
        if self.has_holiday_schedule and any(start <= day < end for start, end in self.holidays):
            return OpeningHours.Schedule.SCHOOL_HOLIDAYS
        return OpeningHours.Schedule.NORMAL

    def is_open(self, at: datetime) -> bool:
        """Whether the entrances accept people at `at`: not during an exceptional closure, and
        inside a slot of the day's schedule in Paris local time (always, without any slot)."""
        if any(start <= at < end for start, end in self.closures):
            return False
        if not self.hours:
            return True
        local = timezone.localtime(at)
        day, now = local.date(), local.time()
        slots = self.hours.get((self.schedule_on(day), day.weekday()), ())
        return any(opens <= now < closes for opens, closes in slots)


_rules: dict[str, tuple[float, FacilityRules]] = {}


def facility_rules(facility: Facility) -> FacilityRules:
    """The facility's rules, read from the database at most once per RULES_CACHE_SECONDS per
    process: a tap at a facility pays no statement for them. Keyed by the facility's public id,
    which is never reused."""
    now = monotonic()
    cached = _rules.get(facility.public_id)
    if cached is not None and now - cached[0] < RULES_CACHE_SECONDS:
        return cached[1]
    rules = _load_rules(facility.pk)
    _rules[facility.public_id] = (now, rules)
    return rules


def _load_rules(facility_id: int) -> FacilityRules:
    settings = FacilityAccessRules.objects.filter(facility_id=facility_id).first()
    hours: dict[tuple[str, int], list[tuple[time, time]]] = {}
    for schedule, weekday, opens, closes in OpeningHours.objects.filter(
        facility_id=facility_id
    ).values_list("schedule", "weekday", "opens", "closes"):
        hours.setdefault((schedule, weekday), []).append((opens, closes))
    has_holiday_schedule = any(s == OpeningHours.Schedule.SCHOOL_HOLIDAYS for s, _day in hours)
    closures = FacilityClosure.objects.filter(
        facility_id=facility_id, ends_at__gt=timezone.now() - CLOSURES_LOOKBACK
    ).values_list("starts_at", "ends_at")
    holidays = holiday_periods() if has_holiday_schedule else []
    anti_passback = settings.anti_passback_minutes if settings else None
    return FacilityRules(
        max_occupancy=settings.max_occupancy if settings else None,
        anti_passback=timedelta(minutes=anti_passback) if anti_passback is not None else None,
        hours={key: tuple(sorted(slots)) for key, slots in hours.items()},
        closures=tuple(closures),
        holidays=tuple(holidays),
        has_holiday_schedule=has_holiday_schedule,
        pay_per_entry_product_id=settings.pay_per_entry_product_id if settings else None,
    )


def forget_facility_rules() -> None:
    """Drop every cached rule of this process (an edit, or a test changing the clock)."""
    _rules.clear()


@receiver(post_save, sender=FacilityAccessRules, dispatch_uid="catalog.rules.saved")
@receiver(post_delete, sender=FacilityAccessRules, dispatch_uid="catalog.rules.deleted")
@receiver(post_save, sender=OpeningHours, dispatch_uid="catalog.hours.saved")
@receiver(post_delete, sender=OpeningHours, dispatch_uid="catalog.hours.deleted")
@receiver(post_save, sender=FacilityClosure, dispatch_uid="catalog.closure.saved")
@receiver(post_delete, sender=FacilityClosure, dispatch_uid="catalog.closure.deleted")
@receiver(post_save, sender=SchoolHoliday, dispatch_uid="catalog.holidays.saved")
@receiver(post_delete, sender=SchoolHoliday, dispatch_uid="catalog.holidays.deleted")
@receiver(post_save, sender=SchoolYear, dispatch_uid="catalog.school_years.saved")
@receiver(post_delete, sender=SchoolYear, dispatch_uid="catalog.school_years.deleted")
def _rules_changed(**kwargs) -> None:
    forget_facility_rules()


@dataclass(frozen=True)
class Occupancy:
    inside: int
    maximum: int


def occupancy_today(facility: Facility) -> Occupancy | None:
    """People inside a facility now, against its maximum (None where it counts nobody): what a
    pool agent's desk shows. Today's count only: yesterday's row means nobody came in yet."""
    rules = facility_rules(facility)
    if rules.max_occupancy is None:
        return None
    row = FacilityOccupancy.objects.filter(facility=facility).values_list("day", "inside").first()
    today = timezone.localdate(timezone=timezone.get_default_timezone())
    inside = row[1] if row is not None and row[0] == today else 0
    return Occupancy(inside=inside, maximum=rules.max_occupancy)


# --- Mon espace: what the household holds and what it can buy --------------------------------


def people_acted_for(user, person) -> list:
    """The members of the resident's household they act for (themself, their wards)."""
    return [m for m in person.household.members.all() if can_act_for(user, m)]


def panel_context(request, person) -> dict:
    """Mon espace > My services: the current entitlements of the people the resident acts
    for (passes, bookings, entry books with what is left)."""
    people = people_acted_for(request.user, person)
    held = (
        current_entitlements(holder_ids=[p.pk for p in people], on=timezone.localdate())
        .select_related("holder")
        .order_by("holder__birth_date", "valid_until")
    )
    return {"entitlements": list(held)}


def procedures_context(request, person) -> dict:
    """Mon espace > My procedures: every procedure the registered services offer."""
    return {"procedures": [(p.name, p.href()) for _service, p in procedures() if p.href()]}


@dataclass(frozen=True)
class ProductOffer:
    """A product as one person would pay it today, or why they cannot buy it."""

    product: Product
    price_cents: int | None
    explanation: str
    refusal: str = ""
    eligibility: str = ""  # who it is open to, when it is not everyone (eligibility.describe)


def offers_for(person, *, on: date | None = None) -> list[ProductOffer]:
    """Every product on sale in Mon espace (lessons are booked through their service) that is
    open to `person` on the day (eligibility.is_offered: age range, residency, not held
    already), priced for them by the tariff engine."""
    day = on or timezone.localdate()
    offers = []
    products = Product.objects.filter(active=True).exclude(kind=Product.Kind.LESSON)
    for product in products.order_by("facility_kind", "name"):
        if product.season_ends_on is not None and product.season_ends_on < day:
            continue
        if not eligibility.is_offered(product, person, on=day):
            continue
        try:
            price = quote(product=product, person=person, on=day)
        except DomainError as error:
            offers.append(ProductOffer(product, None, "", refusal=error.message))
            continue
        offers.append(
            ProductOffer(
                product,
                price.price_cents,
                price.explanation,
                eligibility=eligibility.describe(product),
            )
        )
    return offers


def entries_used_of_sale(line_pk: int) -> tuple[int, int] | None:
    """(used, total) prepaid entries of the entitlements an order line sold (`sale_ref`
    "payments.line:<pk>:<unit>"), or None when the line sold no book of entries."""
    books = Entitlement.objects.filter(
        sale_ref__startswith=f"payments.line:{line_pk}:", kind=Entitlement.Kind.ENTRIES
    ).values_list("entries_total", "entries_left")
    if not books:
        return None
    total = sum(entries for entries, _left in books)
    return total - sum(left for _entries, left in books), total
