"""Parents book canteen days one by one or by a pattern, and cancel before the deadline; every
refusal names its reason and writes nothing."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from identity.errors import DomainError, Forbidden
from identity.models import StaffRole
from identity.schooling.actions import close_school
from services.canteen import actions
from services.canteen.models import Booking, ServiceDay
from tests.factories import guardian_and_child, staff_user
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

PARIS = ZoneInfo("Europe/Paris")
# Tuesday 1 December 2026, 10:00 in Paris.
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)


@pytest.fixture
def family():
    site = canteen_site()
    service = lunch(site)
    guardian, child = enrolled_child(site)
    with time_machine.travel(NOW, tick=False):
        yield guardian.user, child, service


def booked_days(child, service) -> list[date]:
    return list(
        Booking.objects.filter(child=child, service=service, state="booked")
        .order_by("day")
        .values_list("day", flat=True)
    )


def test_a_parent_books_days_one_by_one(family):
    user, child, service = family
    answer = actions.book_days(
        actor=user,
        child=child,
        service=service,
        days=[date(2026, 12, 3), date(2026, 12, 4)],
        key="k1",
    )
    assert answer.booked == [date(2026, 12, 3), date(2026, 12, 4)]
    assert booked_days(child, service) == answer.booked
    assert ServiceDay.objects.get(service=service, day=date(2026, 12, 3)).booked == 1


def test_the_same_request_sent_again_books_once(family):
    user, child, service = family
    days = [date(2026, 12, 3)]
    first = actions.book_days(actor=user, child=child, service=service, days=days, key="same")
    again = actions.book_days(actor=user, child=child, service=service, days=days, key="same")
    assert again == first
    assert Booking.objects.count() == 1
    assert ServiceDay.objects.get(service=service, day=days[0]).booked == 1


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2026, 11, 30), "the day is past"),
        (date(2026, 12, 1), "bookings closed on"),  # today: 15:00 yesterday has gone
        (date(2026, 12, 9), "does not run that day"),  # a Wednesday: lunch does not run
        (date(2026, 12, 21), "school holidays (Vacances de Noël)"),
        (date(2026, 12, 25), "Christmas Day"),
        (date(2027, 7, 5), "outside the school year"),
    ],
)
def test_a_day_that_cannot_be_booked_is_refused_with_its_reason(family, day, reason):
    user, child, service = family
    with pytest.raises(DomainError) as refusal:
        actions.book_days(
            actor=user, child=child, service=service, days=[date(2026, 12, 3), day], key="k"
        )
    assert reason in refusal.value.message
    assert refusal.value.field == "days"
    assert Booking.objects.count() == 0  # nothing half-written
    assert ServiceDay.objects.filter(booked__gt=0).count() == 0


def test_a_day_after_a_deadline_at_1500_is_refused_with_the_date_and_time(family):
    user, child, service = family
    with pytest.raises(DomainError) as refusal:
        actions.book_days(
            actor=user, child=child, service=service, days=[date(2026, 12, 1)], key="k"
        )
    assert refusal.value.message == (
        "Tuesday 1 December 2026: bookings closed on Monday 30 November 2026 at 3:00 PM"
    )
    with translation.override("fr"), pytest.raises(DomainError) as refusal:
        actions.book_days(
            actor=user, child=child, service=service, days=[date(2026, 12, 1)], key="k2"
        )
    assert refusal.value.message == (
        "Mardi 1er décembre 2026: réservations closes le lundi 30 novembre 2026 à 15\xa0h\xa000"
    )


def test_a_child_not_in_the_household_is_refused(family):
    user, _child, service = family
    _other_parent, stranger = enrolled_child(service.site)
    with pytest.raises(Forbidden):
        actions.book_days(
            actor=user, child=stranger, service=service, days=[date(2026, 12, 3)], key="k"
        )
    assert Booking.objects.count() == 0


def test_a_child_not_enrolled_at_that_school_is_refused(family):
    _user, _child, service = family
    other_site = canteen_site("École Jean Moulin")
    guardian, child = enrolled_child(other_site)
    with pytest.raises(DomainError) as refusal:
        actions.book_days(
            actor=guardian.user, child=child, service=service, days=[date(2026, 12, 3)], key="k"
        )
    assert refusal.value.code == "not_enrolled"
    assert Booking.objects.count() == 0


def test_a_child_never_enrolled_is_refused(family):
    _user, _child, service = family
    guardian, child = guardian_and_child()
    with pytest.raises(DomainError) as refusal:
        actions.book_days(
            actor=guardian.user, child=child, service=service, days=[date(2026, 12, 3)], key="k"
        )
    assert refusal.value.code == "not_enrolled"


def test_a_pattern_books_every_matching_day_and_lists_those_it_skipped(family):
    user, child, service = family
    close_school(actor=staff_user(StaffRole.Role.ADMIN), day=date(2026, 12, 10), reason="Grève")
    answer = actions.book_pattern(
        actor=user,
        child=child,
        service=service,
        weekdays=[0, 1, 3],
        start=date(2026, 12, 3),
        until=date(2027, 1, 8),
        key="pattern",
    )
    assert answer.booked == [
        date(2026, 12, 3),
        date(2026, 12, 7),
        date(2026, 12, 8),
        date(2026, 12, 14),
        date(2026, 12, 15),
        date(2026, 12, 17),
        date(2027, 1, 4),
        date(2027, 1, 5),
        date(2027, 1, 7),
    ]
    assert booked_days(child, service) == answer.booked
    skipped = dict(answer.skipped)
    assert skipped[date(2026, 12, 10)] == "closed (Grève)"
    assert "Vacances de Noël" in skipped[date(2026, 12, 21)]
    assert date(2026, 12, 24) in skipped


def test_every_other_wednesday(family):
    user, child, _service = family
    centre = lunch(canteen_site("Centre de loisirs"), kind="wednesday_centre", weekdays="2")
    from identity.schooling.actions import enrol_child

    enrol_child(
        actor=staff_user(StaffRole.Role.ADMIN),
        child=child,
        school=centre.site.school,
        school_year=child.enrolments.get().school_year,
        level="CE1",
    )
    answer = actions.book_pattern(
        actor=user,
        child=child,
        service=centre,
        weekdays=[2],
        start=date(2026, 12, 2),
        until=date(2026, 12, 31),
        every_weeks=2,
        key="wed",
    )
    # 2 and 16 December (the 9th and 23rd are the other weeks); the 30th is in the holidays.
    assert answer.booked == [date(2026, 12, 2), date(2026, 12, 16)]
    assert [day for day, _reason in answer.skipped] == [date(2026, 12, 30)]


def test_a_pattern_over_400_days_is_refused(family):
    user, child, service = family
    with pytest.raises(DomainError) as refusal:
        actions.book_pattern(
            actor=user,
            child=child,
            service=service,
            weekdays=[0],
            start=date(2026, 12, 3),
            until=date(2028, 1, 10),
            key="long",
        )
    assert refusal.value.code == "too_long"
    assert Booking.objects.count() == 0


def test_a_pattern_on_a_day_the_service_does_not_run_is_refused(family):
    user, child, service = family
    with pytest.raises(DomainError) as refusal:
        actions.book_pattern(
            actor=user,
            child=child,
            service=service,
            weekdays=[2],
            start=date(2026, 12, 3),
            until=date(2026, 12, 31),
            key="wed",
        )
    assert refusal.value.field == "weekdays"
    assert "Wednesday" in refusal.value.message


def test_a_full_day_is_refused(family):
    user, child, service = family
    service.capacity = 1
    service.save()
    other_guardian, other_child = enrolled_child(service.site)
    actions.book_days(
        actor=other_guardian.user,
        child=other_child,
        service=service,
        days=[date(2026, 12, 3)],
        key="first",
    )
    with pytest.raises(DomainError) as refusal:
        actions.book_days(
            actor=user, child=child, service=service, days=[date(2026, 12, 3)], key="second"
        )
    assert refusal.value.code == "full"
    assert Booking.objects.count() == 1


def test_cancel_before_the_deadline_frees_the_place_and_can_be_booked_again(family):
    user, child, service = family
    day = date(2026, 12, 3)
    actions.book_days(actor=user, child=child, service=service, days=[day], key="a")
    assert actions.cancel_days(actor=user, child=child, service=service, days=[day]) == 1
    assert Booking.objects.get().state == "cancelled"
    assert ServiceDay.objects.get(day=day).booked == 0
    actions.book_days(actor=user, child=child, service=service, days=[day], key="b")
    assert Booking.objects.get().state == "booked"
    assert ServiceDay.objects.get(day=day).booked == 1


def test_cancel_after_the_deadline_is_refused(family):
    user, child, service = family
    day = date(2026, 12, 3)
    actions.book_days(actor=user, child=child, service=service, days=[day], key="a")
    late = datetime(2026, 12, 2, 15, 0, 1, tzinfo=PARIS)
    with time_machine.travel(late, tick=False), pytest.raises(DomainError) as refusal:
        actions.cancel_days(actor=user, child=child, service=service, days=[day])
    assert refusal.value.code == "deadline_passed"
    assert Booking.objects.get().state == "booked"


@pytest.mark.parametrize(
    ("at", "accepted"),
    [(time(23, 59, 58), True), (time(23, 59, 59), True), (time(23, 59, 59, 900_000), False)],
)
def test_the_deadline_is_kept_to_the_second(family, at, accepted):
    """Lunch bookable until 23:59:59 the day before: 23:59:58 is on time, 23:59:59.9 late."""
    user, child, service = family
    service.rule_time = time(23, 59, 59)
    service.save()
    day = date(2026, 12, 4)
    with time_machine.travel(datetime.combine(date(2026, 12, 3), at, tzinfo=PARIS), tick=False):
        if accepted:
            actions.book_days(actor=user, child=child, service=service, days=[day], key="x")
        else:
            with pytest.raises(DomainError):
                actions.book_days(actor=user, child=child, service=service, days=[day], key="x")
    assert Booking.objects.filter(day=day).exists() is accepted


def test_the_sql_of_a_booking_does_not_grow_with_its_days(family):
    """A week and a month of lunches cost the same number of statements."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user, child, service = family
    actions.book_days(actor=user, child=child, service=service, days=[date(2026, 12, 3)], key="1")
    counts = []
    for key, until in [("week", date(2026, 12, 8)), ("month", date(2027, 1, 29))]:
        with CaptureQueriesContext(connection) as queries:
            actions.book_pattern(
                actor=user,
                child=child,
                service=service,
                weekdays=[0, 1, 3, 4],
                start=date(2026, 12, 3) if key == "week" else date(2026, 12, 10),
                until=until,
                key=key,
            )
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[1] <= 20
