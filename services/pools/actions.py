"""Swimming-lesson places: held when the order is created, confirmed when it is paid, released
on refund, cancellation or expiry. Every write of the pools service is here.

No overbooking: every change to a course's places first locks the course's row
(`_lock_course`), then counts the live places (`queries.places_taken`: confirmed, or held and
not past `held_until`). On PostgreSQL a second purchase waits for the lock and then counts the
first one's place (READ COMMITTED): the last place goes to one buyer only
(tests/services/pools/test_concurrency.py shows the race without the lock)."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import Conflict, DomainError, Forbidden, NotFound
from identity.models import Facility, Person, User
from identity.permissions import can_act_for
from payments import queries as payments_queries
from payments.actions.basket import add_to_basket
from payments.actions.orders import LineInput, create_order
from payments.models import Channel
from services.catalog import eligibility
from services.catalog.actions import grant_entitlement, regie_of, revoke_entitlement
from services.catalog.models import Entitlement
from services.catalog.tariffs import quote

from . import queries, signals
from .models import LessonBooking, LessonCourse

# The name payments knows this service's order lines by (fulfilment.py registers it).
LESSON_HANDLER = "pools.lesson"

# How long a place waits for its payment.
HOLD_MINUTES = 20
SALE_REF_PREFIX = "pools.lesson:"


def _lock_course(course_id: int) -> LessonCourse:
    """Serialise every change to one course's places until commit."""
    return LessonCourse.objects.select_for_update().get(pk=course_id)


def _full_error(course: LessonCourse) -> Conflict:
    return Conflict(
        _("No place left in %(course)s: all %(places)s places are taken.")
        % {"course": course.name, "places": course.places},
        field="course",
        code="full",
    )


@transaction.atomic
def hold_place(
    *, actor: User, person: Person, course: LessonCourse, now: datetime | None = None
) -> LessonBooking:
    """Hold a place of `course` for `person` (the actor themself or a child in their care) for
    HOLD_MINUTES, priced by the tariff engine today: the order's line. Refused, with nothing
    held, when the course is not on sale, has started, is full, the person already has a
    place in it, or its product is not open to them on the day of the first session (age
    range, residency: services.catalog.eligibility)."""
    now = now or timezone.now()
    if not can_act_for(actor, person):
        raise Forbidden(_("You cannot book for this person."))
    if not course.on_sale:
        raise DomainError(_("This course is not on sale."), field="course", code="not_on_sale")
    first = queries.first_session(course)
    if first is None or first.starts_at <= now:
        raise DomainError(
            _("This course has already started: it can no longer be booked."),
            field="course",
            code="started",
        )
    eligibility.check_can_buy(course.product, person, on=timezone.localdate(first.starts_at))
    day = timezone.localdate(now)
    price = quote(product=course.product, person=person, on=day)  # no price: DomainError
    course = _lock_course(course.pk)
    _expire_holds(course=course, now=now)
    if LessonBooking.objects.filter(
        course=course, person=person, status__in=queries.LIVE_STATUSES
    ).exists():
        raise Conflict(
            _("%(name)s already has a place in this course.") % {"name": person.first_name},
            field="person",
            code="already_booked",
        )
    if queries.places_taken(course, now=now) >= course.places:
        raise _full_error(course)
    booking = LessonBooking.objects.create(
        course=course,
        person=person,
        status=LessonBooking.Status.HELD,
        held_until=now + timedelta(minutes=HOLD_MINUTES),
        price_cents=price.price_cents,
        price_explanation=price.explanation,
        booked_by=actor,
    )
    record_audit_entry(
        actor=actor, action="pools.lesson_held", person=person, target=course.public_id
    )
    transaction.on_commit(lambda: signals.hold_taken.send(sender=LessonBooking, booking=booking))
    return booking


@transaction.atomic
def attach_order(*, booking: LessonBooking, order_ref: str) -> None:
    """Remember the order line paying for a held place (after payments created it)."""
    LessonBooking.objects.filter(pk=booking.pk).update(order_ref=order_ref)
    booking.order_ref = order_ref


def _booking_for_update(public_id: str) -> LessonBooking:
    booking = LessonBooking.objects.filter(public_id=public_id).select_related("course").first()
    if booking is None:
        raise NotFound(_("Unknown booking."))
    _lock_course(booking.course_id)  # the course first, always: no deadlock with hold_place
    return LessonBooking.objects.select_for_update().get(pk=booking.pk)


@transaction.atomic
def confirm_booking(
    *, booking_id: str, order_ref: str = "", now: datetime | None = None
) -> LessonBooking:
    """The order is paid: the place is confirmed and the person gets a booking entitlement for
    each day of the course's sessions, at its pool. Idempotent: a confirmed booking is returned
    as is (payments may call twice). A hold that expired meanwhile is confirmed if a place is
    still free; otherwise Conflict `full` (payments then refunds the line)."""
    now = now or timezone.now()
    booking = _booking_for_update(booking_id)
    if booking.status == LessonBooking.Status.CONFIRMED:
        return booking
    course = booking.course
    live_hold = booking.status == LessonBooking.Status.HELD and booking.held_until > now
    if not live_hold:
        # Its place may have gone to someone else since: it needs a free one again.
        if (
            LessonBooking.objects.filter(
                course=course, person_id=booking.person_id, status__in=queries.LIVE_STATUSES
            )
            .exclude(pk=booking.pk)
            .exists()
        ):
            raise Conflict(
                _("This person already has a place in this course."), code="already_booked"
            )
        if queries.places_taken(course, now=now, excluding=booking.pk) >= course.places:
            raise _full_error(course)
    booking.status = LessonBooking.Status.CONFIRMED
    booking.confirmed_at = now
    booking.order_ref = order_ref or booking.order_ref
    booking.save(update_fields=["status", "confirmed_at", "order_ref"])
    person = booking.person
    for day in queries.session_days(course):
        grant_entitlement(
            actor=None,
            holder=person,
            kind=Entitlement.Kind.BOOKING,
            facility_kind=Facility.Kind.POOL,
            facility=course.facility,
            label=course.name,
            valid_from=day,
            valid_until=day,
            sale_ref=f"{SALE_REF_PREFIX}{booking.public_id}:{day.isoformat()}",
            product=course.product,
        )
    record_audit_entry(
        actor=None, action="pools.lesson_confirmed", person=person, target=course.public_id
    )
    return booking


@transaction.atomic
def release_booking(
    *,
    booking_id: str,
    reason: str,
    actor: User | None = None,
    now: datetime | None = None,
    held_only: bool = False,
) -> LessonBooking:
    """Give the place back (a refund, an order cancelled before payment): its booking
    entitlements are revoked. Idempotent: a booking already released or expired is returned
    as is. A resident may release a place they hold for someone they act for, before it is
    paid; once paid, the refund (payments) releases it. `held_only`: release only a place
    still held (an unpaid order cancelled), never a confirmed one."""
    now = now or timezone.now()
    booking = _booking_for_update(booking_id)
    if held_only and booking.status != LessonBooking.Status.HELD:
        return booking
    if actor is not None:
        if not can_act_for(actor, booking.person):
            raise Forbidden(_("You cannot change this booking."))
        if booking.status == LessonBooking.Status.CONFIRMED:
            raise DomainError(_("A paid booking is cancelled by a refund."), code="paid")
    if booking.status not in queries.LIVE_STATUSES:
        return booking
    booking.status = LessonBooking.Status.RELEASED
    booking.released_at = now
    booking.release_reason = reason[:200]
    booking.save(update_fields=["status", "released_at", "release_reason"])
    for entitlement in Entitlement.objects.filter(
        sale_ref__startswith=f"{SALE_REF_PREFIX}{booking.public_id}:"
    ):
        revoke_entitlement(actor=actor, entitlement=entitlement, reason=reason, at=now)
    record_audit_entry(
        actor=actor,
        action="pools.lesson_released",
        person=booking.person,
        target=booking.course.public_id,
        reason=reason[:200],
    )
    return booking


def _expire_holds(*, course: LessonCourse, now: datetime) -> int:
    """Mark the course's holds past their time `expired` (the course's row is locked)."""
    return LessonBooking.objects.filter(
        course=course, status=LessonBooking.Status.HELD, held_until__lte=now
    ).update(status=LessonBooking.Status.EXPIRED, released_at=now, release_reason="expired")


def release_expired_holds(*, now: datetime | None = None) -> int:
    """The sweeper: every hold past its time, in every course, becomes `expired` (its place was
    already free for new buyers). Returns how many."""
    now = now or timezone.now()
    released = 0
    course_ids = set(
        LessonBooking.objects.filter(
            status=LessonBooking.Status.HELD, held_until__lte=now
        ).values_list("course_id", flat=True)
    )
    for course_id in sorted(course_ids):
        with transaction.atomic():
            released += _expire_holds(course=_lock_course(course_id), now=now)
    return released


# --- Buying a place --------------------------------------------------------------------------


def book_lesson(
    *,
    actor: User,
    person: Person,
    course: LessonCourse,
    channel: str = "web",
    idempotency_key: str | None = None,
    now: datetime | None = None,
):
    """Hold a place (hold_place) and put it in the actor's basket (online; an order of its
    own on another channel) through payments, whose fulfilment handler (LESSON_HANDLER)
    confirms it when paid. Returns the order, or None when the lesson is free for that person
    (the place is then confirmed at once). The hold is taken first, in its own transaction:
    the place is the scarce thing, and its HOLD_MINUTES start now, while the basket waits; if
    the line cannot be added, the hold is released at once. The same `idempotency_key` (a form
    sent twice) returns the basket the first request filled, holding nothing more."""
    if idempotency_key and channel == Channel.WEB:
        already = payments_queries.basket_addition(buyer=actor, idempotency_key=idempotency_key)
        if already is not None:
            return already
    booking = hold_place(actor=actor, person=person, course=course, now=now)
    if booking.price_cents == 0:
        confirm_booking(booking_id=booking.public_id, order_ref="free", now=now)
        return None
    product = course.product
    try:
        line = LineInput(
            regie=regie_of(product),
            label=course.name,
            handler=LESSON_HANDLER,
            unit_price_cents=booking.price_cents,
            explanation=booking.price_explanation,
            payload={"booking": booking.public_id, "product": product.code},
            beneficiary=person,
        )
        if channel == Channel.WEB:
            order = add_to_basket(buyer=actor, lines=[line], idempotency_key=idempotency_key)
        else:
            order = create_order(
                buyer=actor,
                payer=getattr(actor, "person", None),
                channel=channel,
                lines=[line],
                idempotency_key=idempotency_key,
            )
    except Exception:
        release_booking(booking_id=booking.public_id, reason="order not created")
        raise
    attach_order(booking=booking, order_ref=f"payments.order:{order.public_id}")
    return order
