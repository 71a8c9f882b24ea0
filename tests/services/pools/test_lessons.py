"""Swimming-lesson places: held when the order is created, expiring if unpaid, confirmed on
payment with booking entitlements for the sessions' days, released on refund; clear refusals
when full, started, or not someone the buyer acts for — nothing held then."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from identity.errors import DomainError, Forbidden
from services.catalog import actions as catalog_actions
from services.catalog.models import AccessPoint, Entitlement
from services.pools import actions, queries
from services.pools.models import LessonBooking
from services.pools.tasks import release_expired_holds
from tests.factories import (
    AccessPointFactory,
    LessonCourseFactory,
    ResidentFactory,
    guardian_and_child,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


def hold(course, person=None):
    person = person or ResidentFactory()
    return actions.hold_place(actor=person.user, person=person, course=course)


def test_a_hold_takes_a_place_priced_by_the_tariff_engine():
    course = LessonCourseFactory(places=2)
    booking = hold(course)
    assert booking.status == LessonBooking.Status.HELD
    assert booking.price_cents == 6000
    assert booking.price_explanation == "Full rate"
    assert booking.held_until - timezone.now() <= timedelta(minutes=actions.HOLD_MINUTES)
    assert queries.places_left(course) == 1


def test_a_full_course_refuses_with_a_clear_message_and_holds_nothing():
    course = LessonCourseFactory(places=1)
    hold(course)
    with pytest.raises(DomainError) as refused:
        hold(course)
    assert refused.value.code == "full"
    assert "No place left" in refused.value.message
    assert "all 1 places are taken" in refused.value.message
    assert LessonBooking.objects.count() == 1


def test_an_unpaid_hold_expires_and_its_place_is_free_again():
    course = LessonCourseFactory(places=1)
    first = hold(course)
    later = timezone.now() + timedelta(minutes=actions.HOLD_MINUTES, seconds=1)
    with time_machine.travel(later, tick=False):
        # Free for a new buyer even before the sweeper ran.
        assert queries.places_left(course) == 1
        assert release_expired_holds.enqueue().return_value == 1
        first.refresh_from_db()
        assert first.status == LessonBooking.Status.EXPIRED
        second = hold(course)
    assert second.status == LessonBooking.Status.HELD


def test_payment_confirms_the_place_and_grants_a_booking_for_each_session_day():
    course = LessonCourseFactory(places=3, sessions=3)
    booking = hold(course)
    actions.confirm_booking(booking_id=booking.public_id, order_ref="payments.line:1")
    booking.refresh_from_db()
    assert booking.status == LessonBooking.Status.CONFIRMED
    granted = Entitlement.objects.filter(holder=booking.person).order_by("valid_from")
    assert [e.kind for e in granted] == [Entitlement.Kind.BOOKING] * 3
    assert [e.valid_from for e in granted] == queries.session_days(course)
    assert all(e.valid_from == e.valid_until and e.facility == course.facility for e in granted)


def test_confirming_twice_grants_once():
    course = LessonCourseFactory()
    booking = hold(course)
    for _ in range(2):
        actions.confirm_booking(booking_id=booking.public_id, order_ref="payments.line:7")
    assert Entitlement.objects.filter(holder=booking.person).count() == 1


def test_a_refund_releases_the_place_and_revokes_the_bookings():
    course = LessonCourseFactory(places=1, sessions=2)
    booking = hold(course)
    actions.confirm_booking(booking_id=booking.public_id)
    actions.release_booking(booking_id=booking.public_id, reason="refund")
    actions.release_booking(booking_id=booking.public_id, reason="refund")  # idempotent
    assert not Entitlement.objects.filter(holder=booking.person, revoked_at__isnull=True).exists()
    assert queries.places_left(course) == 1
    hold(course)  # the place is for sale again


def test_a_hold_paid_after_expiry_is_confirmed_only_if_a_place_is_still_free():
    course = LessonCourseFactory(places=1)
    late = hold(course)
    after = timezone.now() + timedelta(minutes=actions.HOLD_MINUTES, seconds=1)
    with time_machine.travel(after, tick=False):
        other = hold(course)  # took the freed place
        with pytest.raises(DomainError) as refused:
            actions.confirm_booking(booking_id=late.public_id)
        assert refused.value.code == "full"
        actions.release_booking(booking_id=other.public_id, reason="cancelled")
        assert actions.confirm_booking(booking_id=late.public_id).status == "confirmed"


def test_a_guardian_books_for_their_child_not_for_someone_else():
    adult, child = guardian_and_child()
    course = LessonCourseFactory()
    booking = actions.hold_place(actor=adult.user, person=child, course=course)
    assert booking.person == child
    stranger = ResidentFactory()
    with pytest.raises(Forbidden):
        actions.hold_place(actor=stranger.user, person=child, course=course)


def test_one_place_per_person_and_course():
    course = LessonCourseFactory(places=5)
    person = ResidentFactory()
    hold(course, person)
    with pytest.raises(DomainError) as refused:
        hold(course, person)
    assert refused.value.code == "already_booked"
    assert LessonBooking.objects.count() == 1


def test_a_started_course_cannot_be_booked():
    course = LessonCourseFactory(sessions__starts=timezone.now() - timedelta(hours=1))
    with pytest.raises(DomainError) as refused:
        hold(course)
    assert refused.value.code == "started"
    assert not LessonBooking.objects.exists()


def test_a_booking_opens_its_pool_on_the_session_day_only():
    course = LessonCourseFactory()
    booking = hold(course)
    actions.confirm_booking(booking_id=booking.public_id)
    entrance = AccessPointFactory(facility=course.facility, kind=AccessPoint.Kind.ENTRANCE)
    other_pool = AccessPointFactory(kind=AccessPoint.Kind.ENTRANCE)
    session_at = queries.first_session(course).starts_at
    decide = catalog_actions.decide
    assert decide(holder_id=booking.person_id, access_point=entrance, at=session_at).reason == (
        "granted"
    )
    assert decide(holder_id=booking.person_id, access_point=other_pool, at=session_at).reason == (
        "no_entitlement"
    )
    day_before = session_at - timedelta(days=1)
    assert decide(holder_id=booking.person_id, access_point=entrance, at=day_before).reason == (
        "no_entitlement"
    )


def test_through_payments_a_paid_order_confirms_and_a_refund_releases():
    from payments.actions.fulfilment import fulfil_order
    from payments.models import Order, OrderLine
    from tests.factories import collection_office

    collection_office("piscines")
    course = LessonCourseFactory(places=1, product__regie_code="piscines")
    person = ResidentFactory()
    order = actions.book_lesson(actor=person.user, person=person, course=course)
    booking = LessonBooking.objects.get()
    assert booking.order_ref == f"payments.order:{order.public_id}"
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.PAID, paid_at=timezone.now(), basket=False
    )
    fulfil_order(order.pk)
    booking.refresh_from_db()
    assert booking.status == LessonBooking.Status.CONFIRMED
    assert Entitlement.objects.filter(holder=person, kind="booking").count() == 1
    OrderLine.objects.filter(order=order).update(undo_requested_at=timezone.now())
    fulfil_order(order.pk)
    booking.refresh_from_db()
    assert booking.status == LessonBooking.Status.RELEASED
    assert queries.places_left(course) == 1


def test_an_order_that_cannot_be_created_gives_the_place_back():
    course = LessonCourseFactory(places=1)  # no collection office: no order
    person = ResidentFactory()
    with pytest.raises(DomainError) as refused:
        actions.book_lesson(actor=person.user, person=person, course=course)
    assert refused.value.code == "no_regie"
    assert queries.places_left(course) == 1


def test_the_sweep_is_queued_for_the_moment_the_hold_expires(
    settings, django_capture_on_commit_callbacks
):
    from django_tasks import default_task_backend

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    course = LessonCourseFactory()
    with django_capture_on_commit_callbacks(execute=True):
        booking = hold(course)
    queued = default_task_backend.results
    assert len(queued) == 1
    assert queued[0].task.run_after == booking.held_until
    assert queued[0].task.name == "release_expired_holds"


def test_a_late_payment_for_a_place_taken_meanwhile_is_refunded_once_and_never_retried(
    mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    """The hold expired, someone else took the place, then the first buyer's payment arrives:
    no booking, the line is refunded once (to the card), the buyer is told, and neither the
    task retried nor the sweeper tries to confirm it again."""
    from django.core.management import call_command

    from payments.actions.fulfilment import fulfil_order
    from payments.models import Refund
    from payments.queries import ledger_discrepancies
    from tests.factories import collection_office
    from tests.payments.factories import pay

    collection_office("piscines")
    course = LessonCourseFactory(places=1, product__regie_code="piscines")
    late_buyer = ResidentFactory()
    order = actions.book_lesson(actor=late_buyer.user, person=late_buyer, course=course)
    after = timezone.now() + timedelta(minutes=actions.HOLD_MINUTES, seconds=1)
    with time_machine.travel(after, tick=False):
        other = hold(course)  # the freed place
        actions.confirm_booking(booking_id=other.public_id)
        tries = []
        confirm = actions.confirm_booking

        def counted(**kwargs):
            tries.append(kwargs["booking_id"])
            return confirm(**kwargs)

        monkeypatch.setattr(actions, "confirm_booking", counted)
        with django_capture_on_commit_callbacks(execute=True):
            payment = pay(order)
        line = order.lines.get()
        assert line.undeliverable_reason == "full"
        refund = Refund.objects.get(payment=payment)
        assert (refund.destination, refund.status, refund.amount_cents) == (
            "card",
            "succeeded",
            6000,
        )
        late = LessonBooking.objects.get(person=late_buyer)
        assert late.status != LessonBooking.Status.CONFIRMED
        assert not Entitlement.objects.filter(holder=late_buyer).exists()
        assert queries.places_left(course) == 0  # the other buyer keeps the place
        assert any(late_buyer.user.email in m.to and m.attachments for m in mailoutbox)

        with django_capture_on_commit_callbacks(execute=True):
            fulfil_order(order.pk)
    with time_machine.travel(after + timedelta(hours=1)):
        call_command("payments_sweep")
    line.refresh_from_db()
    assert tries == [late.public_id]  # tried once, never again
    assert line.fulfilled_at is None
    assert Refund.objects.filter(payment=payment).count() == 1
    assert not Entitlement.objects.filter(holder=late_buyer).exists()
    assert ledger_discrepancies() == []


def test_cancelling_the_unpaid_order_frees_the_place_at_once():
    from payments.actions.orders import cancel_order
    from tests.factories import collection_office

    collection_office("piscines")
    course = LessonCourseFactory(places=1, product__regie_code="piscines")
    person = ResidentFactory()
    order = actions.book_lesson(actor=person.user, person=person, course=course)
    assert queries.places_left(course) == 0
    cancel_order(actor=person.user, order=order)
    booking = LessonBooking.objects.get(person=person)
    assert booking.status == LessonBooking.Status.RELEASED
    assert booking.release_reason == "order cancelled"
    assert queries.places_left(course) == 1
    hold(course)  # someone else gets it now, not in 20 minutes


def test_the_cancel_hook_never_releases_a_confirmed_place():
    from services.pools import fulfilment

    course = LessonCourseFactory()
    booking = hold(course)
    actions.confirm_booking(booking_id=booking.public_id)

    class Line:
        payload = {"booking": booking.public_id}

    fulfilment.on_cancel(Line())
    booking.refresh_from_db()
    assert booking.status == LessonBooking.Status.CONFIRMED
