"""Booking and cancelling canteen and care days.

A request books days one by one (`book_days`: every day must be bookable, or nothing is written)
or by a pattern (`book_pattern`: the days it meets that cannot be booked are skipped and listed,
the others booked). Both take an idempotency key: the same request sent again returns the first
answer. Capacity is held by one counter row per service and day (ServiceDay): a booking takes
its days' places in one conditional upsert that row-locks the counters in day order for the
request's transaction (`_take_places`): two parents booking the last place at once get one
place and one refusal (tests/services/canteen/test_concurrency.py). The number of SQL
statements of a request does not grow with its number of days."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from documents_vault.actions.picking import attach_document
from documents_vault.actions.sharing import FileRef
from documents_vault.models import DocumentKind
from identity.actions.audit import record_audit_entry
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import AuditEntry, Person, User
from identity.permissions import Capability, can_act_for, has_capability
from identity.schooling.actions import lock_child
from identity.schooling.calendar import SchoolCalendar, school_calendar

from . import prepayment, queries, rules
from .models import Booking, BookingRequest, Diet, Menu, Service, ServiceDay
from .words import day_words, instant_words

# A pattern (or a list of days) spans at most this many days: a slip of the year is refused.
MAX_SPAN_DAYS = 400


@dataclass
class BookingAnswer:
    """What a booking request did: the days booked (already booked ones included) and the
    days skipped with the reason, in French words ready to show."""

    booked: list[date] = field(default_factory=list)
    skipped: list[tuple[date, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "booked": [day.isoformat() for day in self.booked],
            "skipped": [{"day": day.isoformat(), "reason": reason} for day, reason in self.skipped],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "BookingAnswer":
        return cls(
            booked=[date.fromisoformat(day) for day in data["booked"]],
            skipped=[(date.fromisoformat(s["day"]), s["reason"]) for s in data["skipped"]],
        )


def _day_refused(day: date, reason: str) -> str:
    """« Mardi 1er décembre 2026 : réservations closes le … »"""
    return capfirst(f"{day_words(day)}: {reason}")


def why_not_bookable(
    service: Service, day: date, calendar: SchoolCalendar, now: datetime
) -> str | None:
    """Why `day` of `service` cannot be booked now (None: it can), in words."""
    if day < timezone.localdate(now, timezone.get_default_timezone()):
        return _("the day is past")
    not_running = rules.why_not_running(service, day, calendar)
    if not_running is not None:
        return not_running
    if not rules.is_open(service, day, calendar, now):
        limit = rules.deadline(service, day, calendar)
        return _("bookings closed on %(when)s") % {"when": instant_words(limit)}
    return None


def _check_request(actor: User, child: Person, service: Service) -> None:
    if child.role != Person.Role.CHILD or not can_act_for(actor, child):
        raise Forbidden(_("You do not book for this child."))


def _claim_key(actor: User, key: str) -> BookingAnswer | None:
    """Claim the idempotency key of a booking for this transaction; the first answer if the
    key was used."""
    answer = _claimed_answer(actor, key, longest=80)
    return None if answer is None else BookingAnswer.from_dict(answer)


def _claimed_answer(actor: User, key: str, *, longest: int) -> dict | None:
    """Claim the idempotency key for this transaction: None when it is new, else the answer
    stored by the first request. A second request with the key waits on the key's unique index
    until the first commits."""
    if not key or len(key) > longest:
        raise DomainError(
            _("Each request carries a key of 1 to %(longest)s characters.") % {"longest": longest},
            field="key",
        )
    table = BookingRequest._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, user_id, answer, at) VALUES (%s, %s, %s, %s) "  # noqa: S608
            "ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
            [key, actor.pk, "null", timezone.now()],
        )
        claimed = cursor.fetchone() is not None
    if claimed:
        return None
    answer = BookingRequest.objects.get(user=actor, key=key).answer
    if answer is None:
        raise Conflict(_("This request is being handled: try again."), code="in_progress")
    return answer


def _create_counters(service: Service, days: list[date]) -> None:
    """The days' counters, created if missing (two requests creating one at once are
    serialised by its unique index)."""
    ServiceDay.objects.bulk_create(
        [ServiceDay(service=service, day=day) for day in days], ignore_conflicts=True
    )


def _take_places(*, service_id: int, days: list[date], capacity: int) -> set[date]:
    """One place on each of `days` (sorted, distinct) that has one left; the days it took. A
    single conditional upsert, whatever the number of days: it creates a day's counter on its
    first booking, adds one where the count is under the capacity, and holds the counters' row
    locks until commit, taken in day order (no deadlock between two requests over overlapping
    days). On PostgreSQL a second request for the last place waits for that lock, then sees
    the place taken (tests/services/canteen/test_concurrency.py)."""
    if capacity <= 0 or not days:
        return set()
    table = ServiceDay._meta.db_table
    rows = ", ".join(["(%s, %s, 1)"] * len(days))
    sql = (
        f"INSERT INTO {table} (service_id, day, booked) VALUES {rows} "  # noqa: S608
        f"ON CONFLICT (service_id, day) DO UPDATE SET booked = {table}.booked + 1 "
        f"WHERE {table}.booked < %s RETURNING day"
    )
    params = [v for day in days for v in (service_id, connection.ops.adapt_datefield_value(day))]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, capacity])
        taken = [row[0] for row in cursor.fetchall()]
    return {day if isinstance(day, date) else date.fromisoformat(day) for day in taken}


def _book(
    *,
    actor: User,
    child: Person,
    service: Service,
    days: list[date],
    skipped: list[tuple[date, str]],
    key: str,
    strict: bool,
) -> BookingAnswer:
    site = service.site
    wanted = sorted(set(days))
    enrolled = queries.enrolled_days(child, site.school_id, wanted)
    for day in wanted:
        if day not in enrolled:
            reason = _("the child is not enrolled at this school that day")
            if strict:
                raise DomainError(_day_refused(day, reason), field="days", code="not_enrolled")
            skipped.append((day, reason))
    wanted = [day for day in wanted if day in enrolled]
    # Two requests for the child at once (two guardians, two tabs): the second reads the
    # bookings once the first has written them, instead of meeting their unique index.
    lock_child(child)
    existing = queries.bookings_on(child, service, wanted)
    # Read under the child's lock, like a diet change writes (one more statement, at lunch).
    packed = service.serves_lunch and queries.brings_packed_meal(child)
    new_days = [d for d in wanted if d not in existing or existing[d].state == "cancelled"]
    if new_days:
        taken = _take_places(service_id=service.pk, days=new_days, capacity=service.capacity)
        full = [day for day in new_days if day not in taken]
        if full and strict:
            raise DomainError(
                _("%(day)s: no place left.") % {"day": day_words(full[0])},
                field="days",
                code="full",
            )
        skipped.extend((day, _("no place left")) for day in full)
        new_days = [day for day in new_days if day not in full]
    now = timezone.now()
    again = [existing[d].pk for d in new_days if d in existing]
    if again:
        Booking.objects.filter(pk__in=again).update(
            state=Booking.State.BOOKED, changed_at=now, booked_by=actor, packed_meal=packed
        )
    Booking.objects.bulk_create(
        [
            Booking(
                child=child,
                household_id=child.household_id,
                service=service,
                day=day,
                booked_by=actor,
                booked_at=now,
                changed_at=now,
                packed_meal=packed,
            )
            for day in new_days
            if day not in existing
        ]
    )
    answer = BookingAnswer(
        booked=sorted(
            {*new_days, *(d for d, b in existing.items() if b.state != Booking.State.CANCELLED)}
        ),
        skipped=sorted(skipped),
    )
    if service.prepaid and new_days:
        prepayment.charge(actor=actor, child=child, service=service, days=new_days, key=key)
    record_audit_entry(
        actor=actor,
        action="canteen.booked",
        person=child,
        target=f"{service.public_id}:{len(new_days)}",
    )
    BookingRequest.objects.filter(user=actor, key=key).update(answer=answer.as_dict())
    return answer


def _span_check(start: date, end: date) -> None:
    if end < start:
        raise DomainError(_("The last day comes before the first."), field="until")
    if (end - start).days + 1 > MAX_SPAN_DAYS:
        raise DomainError(
            _("A booking spans at most %(days)s days.") % {"days": MAX_SPAN_DAYS},
            field="until",
            code="too_long",
        )


@transaction.atomic
def book_days(
    *, actor: User, child: Person, service: Service, days: list[date], key: str
) -> BookingAnswer:
    """Book `child` for each of `days` at `service`: all of them, or none with the reason of
    the first day that cannot be booked (field "days")."""
    _check_request(actor, child, service)
    if not days:
        raise DomainError(_("Choose at least one day."), field="days")
    _span_check(min(days), max(days))
    first = _claim_key(actor, key)
    if first is not None:
        return first
    now = timezone.now()
    calendar = school_calendar(service.site.school, min(days), max(days))
    for day in sorted(set(days)):
        reason = why_not_bookable(service, day, calendar, now)
        if reason is not None:
            raise DomainError(_day_refused(day, reason), field="days", code="not_bookable")
    return _book(
        actor=actor, child=child, service=service, days=days, skipped=[], key=key, strict=True
    )


@transaction.atomic
def book_pattern(
    *,
    actor: User,
    child: Person,
    service: Service,
    weekdays: list[int],
    start: date,
    until: date,
    every_weeks: int = 1,
    key: str,
) -> BookingAnswer:
    """Book `child` on `weekdays` (0 = Monday) every `every_weeks` weeks from `start` to
    `until` included ("Monday, Tuesday, Thursday every week until the summer", "every other
    Wednesday"): the days that cannot be booked (a holiday, a closure, after the deadline, no
    place left) are skipped and listed with their reason, the others booked."""
    _check_request(actor, child, service)
    if not weekdays or any(not isinstance(d, int) or not 0 <= d <= 6 for d in weekdays):
        raise DomainError(_("Choose days of the week."), field="weekdays")
    not_run = sorted(set(weekdays) - service.runs_on_weekdays)
    if not_run:
        raise DomainError(
            _("The service does not run on %(day)s.")
            % {
                "day": formats.date_format(
                    start + timedelta((not_run[0] - start.weekday()) % 7), "l"
                )
            },
            field="weekdays",
            code="not_run",
        )
    if every_weeks not in (1, 2, 3, 4):
        raise DomainError(_("Every 1 to 4 weeks."), field="every_weeks")
    _span_check(start, until)
    first = _claim_key(actor, key)
    if first is not None:
        return first
    now = timezone.now()
    calendar = school_calendar(service.site.school, start, until)
    first_monday = start - timedelta(days=start.weekday())
    days, skipped = [], []
    day = start
    while day <= until:
        week = (day - first_monday).days // 7
        if day.weekday() in weekdays and week % every_weeks == 0:
            reason = why_not_bookable(service, day, calendar, now)
            if reason is None:
                days.append(day)
            else:
                skipped.append((day, reason))
        day += timedelta(days=1)
    return _book(
        actor=actor,
        child=child,
        service=service,
        days=days,
        skipped=skipped,
        key=key,
        strict=False,
    )


@transaction.atomic
def cancel_days(*, actor: User, child: Person, service: Service, days: list[date]) -> int:
    """Cancel `child`'s bookings of `days` before their deadline: all of them, or none with the
    reason (a day not booked, a day past its deadline). Returns how many were cancelled."""
    _check_request(actor, child, service)
    if not days:
        raise DomainError(_("Choose at least one day."), field="days")
    _span_check(min(days), max(days))
    wanted = sorted(set(days))
    now = timezone.now()
    calendar = school_calendar(service.site.school, wanted[0], wanted[-1])
    bookings = list(
        Booking.objects.select_for_update()
        .filter(child=child, service=service, day__in=wanted, state=Booking.State.BOOKED)
        .order_by("day")
    )
    booked = {b.day for b in bookings}
    for day in wanted:
        if day not in booked:
            raise DomainError(_("%(day)s is not booked.") % {"day": day_words(day)}, field="days")
        if not rules.is_open(service, day, calendar, now):
            raise DomainError(
                _("%(day)s can no longer be cancelled: justify the absence instead.")
                % {"day": day_words(day)},
                field="days",
                code="deadline_passed",
            )
    _create_counters(service, wanted)
    queries.places_taken(service, wanted, for_update=True)
    Booking.objects.filter(pk__in=[b.pk for b in bookings]).update(
        state=Booking.State.CANCELLED, changed_at=now
    )
    ServiceDay.objects.filter(service=service, day__in=wanted).update(booked=F("booked") - 1)
    if service.prepaid:
        prepayment.refund(bookings)
    record_audit_entry(
        actor=actor,
        action="canteen.cancelled",
        person=child,
        target=f"{service.public_id}:{len(wanted)}",
    )
    return len(wanted)


@dataclass
class MonthChange:
    """What a month's form did: the days booked and the days cancelled."""

    booked: list[date] = field(default_factory=list)
    cancelled: list[date] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "booked": [day.isoformat() for day in self.booked],
            "cancelled": [day.isoformat() for day in self.cancelled],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "MonthChange":
        return cls(
            booked=[date.fromisoformat(day) for day in data["booked"]],
            cancelled=[date.fromisoformat(day) for day in data.get("cancelled", [])],
        )


@transaction.atomic
def set_days(
    *,
    actor: User,
    child: Person,
    service: Service,
    offered: list[date],
    chosen: list[date],
    key: str,
) -> MonthChange:
    """The month's form of a parent: of the days it `offered` (those it showed as changeable),
    the `chosen` ones are booked and the others cancelled when they were booked. All or
    nothing: a day that cannot be booked or cancelled refuses the whole form with its reason.
    The same form sent again (same key) does nothing more and gets the first answer."""
    _check_request(actor, child, service)
    stray = sorted(set(chosen) - set(offered))
    if stray:
        raise DomainError(
            _("%(day)s cannot be changed here.") % {"day": day_words(stray[0])}, field="days"
        )
    if not offered:
        raise DomainError(_("Choose at least one day."), field="days")
    _span_check(min(offered), max(offered))
    # The key is claimed for the whole form: a double click waits for the first and gets its
    # answer instead of cancelling what the first one cancelled again.
    first = _claimed_answer(actor, key, longest=75)  # room for ":book"
    if first is not None:
        return MonthChange.from_dict(first)
    booked = set(
        Booking.objects.filter(
            child=child, service=service, day__in=offered, state=Booking.State.BOOKED
        ).values_list("day", flat=True)
    )
    to_cancel = sorted(booked - set(chosen))
    to_book = sorted(set(chosen) - booked)
    if to_cancel:
        cancel_days(actor=actor, child=child, service=service, days=to_cancel)
    if to_book:
        book_days(actor=actor, child=child, service=service, days=to_book, key=f"{key}:book")
    change = MonthChange(booked=to_book, cancelled=to_cancel)
    BookingRequest.objects.filter(user=actor, key=key).update(answer=change.as_dict())
    return change


# --- Diets --------------------------------------------------------------------------------------

# The kinds of diet the kitchen needs words for.
DETAILS_REQUIRED = {
    Diet.Kind.ALLERGY_PAI: _("Name the allergies of the care plan."),
    Diet.Kind.TEXTURE: _("Say which texture (mixed, cut small…)."),
}


@dataclass(frozen=True)
class DietChoice:
    kind: str
    details: str = ""
    # A PAI child brings a packed meal from home (allergy_pai only).
    packed_meal: bool = False


def _clean_choices(choices: list[DietChoice]) -> list[DietChoice]:
    seen: dict[str, DietChoice] = {}
    for choice in choices:
        if choice.kind not in Diet.Kind.values:
            raise DomainError(_("Choose diets from the list."), field="kinds")
        details = choice.details.strip()
        if len(details) > 200:
            raise DomainError(_("200 characters at most."), field=f"details_{choice.kind}")
        if not details and choice.kind in DETAILS_REQUIRED:
            raise DomainError(str(DETAILS_REQUIRED[choice.kind]), field=f"details_{choice.kind}")
        if choice.packed_meal and choice.kind != Diet.Kind.ALLERGY_PAI:
            raise DomainError(
                _("Only a child with a care plan (PAI) brings a packed meal."),
                field="packed_meal",
            )
        seen[choice.kind] = DietChoice(choice.kind, details, choice.packed_meal)
    return list(seen.values())


def _write_diets(
    *, actor: User, child: Person, choices: list[DietChoice], care_plan, by_town: bool
) -> list[Diet]:
    # One change of a child's diets at a time: two at once would both add the same kind.
    lock_child(child)
    before = {d.kind: d for d in queries.diets_of(child)}
    wanted = {choice.kind: choice for choice in choices}
    now = timezone.now()
    Diet.objects.filter(child=child).exclude(kind__in=list(wanted)).delete()
    for kind, choice in wanted.items():
        plan = care_plan if kind == Diet.Kind.ALLERGY_PAI else None
        Diet.objects.update_or_create(
            child=child,
            kind=kind,
            defaults={
                "details": choice.details,
                "care_plan": plan,
                "recorded_by": actor,
                "recorded_at": now,
                "by_town": by_town,
                "packed_meal": choice.packed_meal,
            },
        )
    packed_before = any(d.packed_meal for d in before.values())
    packed_after = any(c.packed_meal for c in wanted.values())
    changes = {
        "diets": [
            sorted(f"{k}:{d.details}" for k, d in before.items()),
            sorted(f"{k}:{c.details}" for k, c in wanted.items()),
        ]
    }
    target = ""
    if packed_before != packed_after:
        changes["packed_meal"] = [packed_before, packed_after]
        target = f"lunches_changed:{_set_packed_meal(child, packed_after, now)}"
    record_audit_entry(
        actor=actor,
        action="canteen.diets_corrected" if by_town else "canteen.diets_declared",
        person=child,
        target=target,
        channel=AuditEntry.Channel.COUNTER if by_town else AuditEntry.Channel.WEB,
        changes=changes,
    )
    return list(Diet.objects.filter(child=child))


def _set_packed_meal(child: Person, packed: bool, now: datetime) -> int:
    """The child's lunches still open to changes follow the diet (`packed`): a day whose
    deadline has passed is final for the kitchen and billed as it was then. A changed day that
    was prepaid is refunded, then billed with the month. How many changed."""
    today = timezone.localdate(now, timezone.get_default_timezone())
    bookings = list(
        Booking.objects.filter(
            child=child,
            service__kind=Service.Kind.LUNCH,
            state=Booking.State.BOOKED,
            day__gte=today,
        )
        .exclude(packed_meal=packed)
        .select_related("service__site__school")
        .order_by("service_id", "day")
    )
    open_days = []
    calendars: dict[int, SchoolCalendar] = {}
    for booking in bookings:
        service = booking.service
        if service.pk not in calendars:
            days = [b.day for b in bookings if b.service_id == service.pk]
            calendars[service.pk] = school_calendar(service.site.school, days[0], days[-1])
        if rules.is_open(service, booking.day, calendars[service.pk], now):
            open_days.append(booking.pk)
    changed = Booking.objects.filter(pk__in=open_days).update(packed_meal=packed, changed_at=now)
    # Days paid at booking at the other price go back to the wallet; the month's bill prices
    # them as they now stand. A diet is never refused, nor a wallet charged, for money.
    prepayment.refund(list(Booking.objects.filter(pk__in=open_days)))
    return changed


def _care_plan_target(child: Person):
    return FileRef(
        kind="canteen_diet",
        id=child.public_id,
        label=_("Canteen diet of %(name)s") % {"name": child.first_name},
        capability=Capability.VIEW_ATTENDANCE,
    )


@transaction.atomic
def declare_diets(
    *,
    actor: User,
    child: Person,
    choices: list[DietChoice],
    care_plan: dict | None = None,
) -> list[Diet]:
    """A parent records the child's diets once (they replace the previous ones). An allergy
    with a care plan (PAI) needs the PAI document: `care_plan` holds attach_document's
    arguments (a document of the safe, `document_id`, or a new file, `file_name` and
    `content`); without it, the PAI document already recorded stays."""
    if child.role != Person.Role.CHILD or not can_act_for(actor, child):
        raise Forbidden(_("You do not act for this child."))
    choices = _clean_choices(choices)
    document = None
    if any(c.kind == Diet.Kind.ALLERGY_PAI for c in choices):
        if care_plan:
            share = attach_document(
                actor=actor,
                person=child,
                kinds=[DocumentKind.CARE_PLAN],
                target=_care_plan_target(child),
                **care_plan,
            )
            document = share.document
        else:
            current = Diet.objects.filter(child=child, kind=Diet.Kind.ALLERGY_PAI).first()
            document = current.care_plan if current else None
        if document is None:
            raise DomainError(
                _("An allergy with a care plan needs the PAI document."), field="document"
            )
    return _write_diets(
        actor=actor, child=child, choices=choices, care_plan=document, by_town=False
    )


@transaction.atomic
def correct_diet(
    *,
    actor: User,
    child: Person,
    kind: str,
    details: str = "",
    care_plan=None,
    packed_meal: bool | None = None,
    remove: bool = False,
) -> list[Diet]:
    """The town corrects one of a child's diets (adds, changes or removes it): staff who edit
    residents' files or manage the territory. A PAI diet rests on a care-plan document of the
    child's household; `packed_meal` (PAI only; None: as recorded) says the child brings a
    packed meal from home."""
    if not (
        has_capability(actor, Capability.EDIT_RESIDENT_FILE)
        or has_capability(actor, Capability.MANAGE_TERRITORY)
    ):
        raise Forbidden(_("You cannot correct diets."))
    if child.role != Person.Role.CHILD:
        raise DomainError(_("Diets are recorded for children."), field="child")
    current = {d.kind: d for d in Diet.objects.filter(child=child)}
    choices = [DietChoice(k, d.details, d.packed_meal) for k, d in current.items() if k != kind]
    if packed_meal is None:  # unsaid: as recorded
        packed_meal = getattr(current.get(kind), "packed_meal", False)
    if not remove:
        choices.append(DietChoice(kind, details, packed_meal))
    choices = _clean_choices(choices)
    plan = care_plan if care_plan is not None else getattr(current.get(kind), "care_plan", None)
    if not remove and kind == Diet.Kind.ALLERGY_PAI:
        if plan is None or plan.household_id != child.household_id or plan.is_deleted:
            raise DomainError(
                _("An allergy with a care plan needs the PAI document."), field="care_plan"
            )
    else:
        plan = getattr(current.get(Diet.Kind.ALLERGY_PAI), "care_plan", None)
    return _write_diets(actor=actor, child=child, choices=choices, care_plan=plan, by_town=True)


# --- Menus --------------------------------------------------------------------------------------


@transaction.atomic
def publish_menus(*, actor: User, menus: list[Menu]) -> int:
    """Publish menus to parents (staff of the site's school, or who manage the territory).
    A menu without a dish is refused. Returns how many were published now."""
    for menu in menus:
        school = menu.site.school
        if not (
            has_capability(actor, Capability.MANAGE_TERRITORY)
            or has_capability(actor, Capability.VIEW_ATTENDANCE, facility=school)
        ):
            raise Forbidden(_("You cannot publish the menus of this canteen."))
        if not menu.dishes.exists():
            raise DomainError(
                _("The menu of %(day)s has no dish.") % {"day": day_words(menu.day)},
                field="dishes",
            )
    pending = [menu.pk for menu in menus if not menu.published]
    published = Menu.objects.filter(pk__in=pending, published=False).update(
        published=True, published_at=timezone.now(), published_by=actor
    )
    for menu in menus:
        if menu.pk in pending:
            record_audit_entry(
                actor=actor,
                action="canteen.menus_published",
                target=f"canteen.Menu:{menu.pk}",
                channel=AuditEntry.Channel.COUNTER,
            )
    return published
