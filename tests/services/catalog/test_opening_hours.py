"""Opening hours at an entrance: the weekly pattern in Paris wall-clock time, the school-holiday
schedule, exceptional closures. Exits and desks are never closed; a refusal consumes nothing."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from services.catalog.actions import decide
from services.catalog.models import AccessPoint, OpeningHours
from tests.factories import (
    AccessPointFactory,
    EntitlementFactory,
    FacilityClosureFactory,
    OpeningHoursFactory,
    PassFactory,
    PersonFactory,
    SchoolHolidayFactory,
    SchoolYearFactory,
)

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS, SATURDAY, SUNDAY = range(5), 5, 6
HOLIDAYS = OpeningHours.Schedule.SCHOOL_HOLIDAYS


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def tap(holder, access_point, moment: datetime):
    """decide at `moment`, the clock of the server frozen there (as at a gate, online)."""
    with time_machine.travel(moment, tick=False):
        return decide(holder_id=holder.pk, access_point=access_point, at=timezone.now())


def with_pool_pass():
    holder = PersonFactory()
    PassFactory(holder=holder, valid_from=date(2026, 1, 1), valid_until=date(2027, 12, 31))
    return holder


def pool_hours(facility, schedule=OpeningHours.Schedule.NORMAL):
    """Monday–Friday 12:00–13:45 and 17:00–20:00, Saturday 10:00–18:00, Sunday 9:00–13:00."""
    slots = [
        (WEEKDAYS, time(12), time(13, 45)),
        (WEEKDAYS, time(17), time(20)),
        ([SATURDAY], time(10), time(18)),
        ([SUNDAY], time(9), time(13)),
    ]
    for days, opens, closes in slots:
        for day in days:
            OpeningHoursFactory(
                facility=facility, schedule=schedule, weekday=day, opens=opens, closes=closes
            )


@pytest.fixture
def entrance():
    point = AccessPointFactory()
    pool_hours(point.facility)
    return point


@pytest.mark.parametrize(
    ("moment", "reason"),
    [
        (paris(2026, 3, 23, 11, 59), "closed"),  # Monday, before the lunch slot
        (paris(2026, 3, 23, 12, 0), "granted"),  # opening time is included
        (paris(2026, 3, 23, 13, 44), "granted"),
        (paris(2026, 3, 23, 13, 45), "closed"),  # closing time is not
        (paris(2026, 3, 23, 15, 0), "closed"),  # between the two slots of the day
        (paris(2026, 3, 23, 17, 30), "granted"),  # the evening slot
        (paris(2026, 3, 23, 20, 0), "closed"),
        (paris(2026, 3, 27, 19, 59), "granted"),  # Friday evening
        (paris(2026, 3, 28, 9, 59), "closed"),  # Saturday
        (paris(2026, 3, 28, 12, 30), "granted"),
        (paris(2026, 3, 28, 17, 59), "granted"),
        (paris(2026, 3, 22, 13, 0), "closed"),  # Sunday closes at 13:00
        (paris(2026, 3, 22, 3, 0), "closed"),  # the night
    ],
)
def test_an_entrance_opens_in_the_slots_of_the_day_only(entrance, moment, reason):
    decision = tap(with_pool_pass(), entrance, moment)
    assert (decision.granted, decision.reason) == (reason == "granted", reason)


def test_a_weekday_without_a_slot_is_closed_all_day():
    entrance = AccessPointFactory()
    OpeningHoursFactory(facility=entrance.facility, weekday=0)  # Mondays 12:00–13:45 only
    holder = with_pool_pass()
    assert tap(holder, entrance, paris(2026, 3, 23, 12, 30)).granted
    assert tap(holder, entrance, paris(2026, 3, 24, 12, 30)).reason == "closed"  # Tuesday


def test_hours_are_paris_wall_clock_time_on_the_days_clocks_change(entrance):
    holder = with_pool_pass()
    # Sunday 29 March 2026, clocks go forward at 02:00: 07:30 UTC is 09:30 in Paris, open.
    assert tap(holder, entrance, datetime(2026, 3, 29, 7, 30, tzinfo=UTC)).granted
    # The Sunday before, the same UTC instant is 08:30 in Paris: not open yet.
    assert tap(holder, entrance, datetime(2026, 3, 22, 7, 30, tzinfo=UTC)).reason == "closed"
    # 12:59 in Paris that Sunday is 10:59 UTC (still open); 13:00 is closing time.
    assert tap(holder, entrance, datetime(2026, 3, 29, 10, 59, tzinfo=UTC)).granted
    assert tap(holder, entrance, datetime(2026, 3, 29, 11, 0, tzinfo=UTC)).reason == "closed"
    # Sunday 25 October 2026, clocks go back at 03:00: 08:30 UTC is 09:30 in Paris, open,
    # and 07:30 UTC is 08:30, closed (it would have been 09:30 the day before).
    assert tap(holder, entrance, datetime(2026, 10, 25, 8, 30, tzinfo=UTC)).granted
    assert tap(holder, entrance, datetime(2026, 10, 25, 7, 30, tzinfo=UTC)).reason == "closed"


def test_the_school_holiday_schedule_applies_during_school_holidays(entrance):
    for day in WEEKDAYS:
        OpeningHoursFactory(
            facility=entrance.facility,
            schedule=HOLIDAYS,
            weekday=day,
            opens=time(10),
            closes=time(19, 30),
        )
    SchoolHolidayFactory(starts_on=date(2026, 12, 19), classes_resume_on=date(2027, 1, 4))
    holder = with_pool_pass()
    assert tap(holder, entrance, paris(2026, 12, 14, 10, 30)).reason == "closed"  # a school week
    assert tap(holder, entrance, paris(2026, 12, 21, 10, 30)).granted  # Christmas holidays
    assert tap(holder, entrance, paris(2026, 12, 21, 15, 0)).granted
    assert tap(holder, entrance, paris(2027, 1, 1, 19, 29)).granted
    # Classes resume on Monday 4 January: the normal schedule again.
    assert tap(holder, entrance, paris(2027, 1, 4, 10, 30)).reason == "closed"
    assert tap(holder, entrance, paris(2027, 1, 4, 12, 30)).granted
    # A weekend day of the holidays without a holiday slot is closed: the holiday schedule is
    # the whole week's pattern during the holidays, not a supplement to the normal one.
    assert tap(holder, entrance, paris(2026, 12, 26, 11, 0)).reason == "closed"


def test_without_a_holiday_schedule_the_normal_hours_apply_in_the_holidays(entrance):
    SchoolHolidayFactory()
    holder = with_pool_pass()
    assert tap(holder, entrance, paris(2026, 12, 21, 10, 30)).reason == "closed"
    assert tap(holder, entrance, paris(2026, 12, 21, 12, 30)).granted


def test_an_exceptional_closure_closes_the_entrance_whatever_the_hours(entrance):
    FacilityClosureFactory(
        facility=entrance.facility,
        starts_at=paris(2026, 3, 23, 12, 30),
        ends_at=paris(2026, 3, 24, 0, 0),
        reason="Pollution du bassin",
    )
    holder = with_pool_pass()
    assert tap(holder, entrance, paris(2026, 3, 23, 12, 29)).granted
    assert tap(holder, entrance, paris(2026, 3, 23, 12, 30)).reason == "closed"
    assert tap(holder, entrance, paris(2026, 3, 23, 17, 30)).reason == "closed"
    assert tap(holder, entrance, paris(2026, 3, 24, 12, 0)).granted  # the end is excluded


def test_a_closure_elsewhere_changes_nothing_here(entrance):
    FacilityClosureFactory(
        starts_at=paris(2026, 3, 23, 0, 0), ends_at=paris(2026, 3, 24, 0, 0)
    )  # another pool
    assert tap(with_pool_pass(), entrance, paris(2026, 3, 23, 12, 30)).granted


def test_a_facility_without_any_opening_hours_is_always_open():
    entrance = AccessPointFactory()
    holder = with_pool_pass()
    for moment in [paris(2026, 3, 22, 3, 0), paris(2026, 12, 25, 23, 59), paris(2026, 3, 29, 2)]:
        assert tap(holder, entrance, moment).granted


def test_a_facility_with_only_a_holiday_schedule_is_closed_out_of_the_holidays():
    entrance = AccessPointFactory()
    OpeningHoursFactory(facility=entrance.facility, schedule=HOLIDAYS, weekday=0)
    SchoolHolidayFactory()
    holder = with_pool_pass()
    assert tap(holder, entrance, paris(2026, 12, 21, 12, 30)).granted
    assert tap(holder, entrance, paris(2026, 12, 14, 12, 30)).reason == "closed"


def test_exits_and_desks_are_never_closed(entrance):
    FacilityClosureFactory(
        facility=entrance.facility,
        starts_at=paris(2026, 3, 23, 0, 0),
        ends_at=paris(2026, 3, 24, 0, 0),
    )
    holder = with_pool_pass()
    exit_ = AccessPointFactory(facility=entrance.facility, kind=AccessPoint.Kind.EXIT)
    desk = AccessPointFactory(facility=entrance.facility, kind=AccessPoint.Kind.DESK)
    for moment in [paris(2026, 3, 23, 12, 30), paris(2026, 3, 23, 23, 0)]:  # closure, night
        assert tap(holder, entrance, moment).reason == "closed"
        assert (tap(holder, exit_, moment).granted, tap(holder, exit_, moment).reason) == (
            True,
            "exit",
        )
        assert tap(holder, desk, moment).reason == "valid"


def test_nothing_is_consumed_when_closed(entrance):
    holder = PersonFactory()
    book = EntitlementFactory(
        holder=holder, valid_from=date(2026, 1, 1), valid_until=date(2026, 12, 31)
    )
    decision = tap(holder, entrance, paris(2026, 3, 23, 3, 0))
    assert (decision.granted, decision.reason, decision.consumed) == (False, "closed", 0)
    book.refresh_from_db()
    assert book.entries_left == 10
    assert tap(holder, entrance, paris(2026, 3, 23, 12, 0)).remaining == 9


def test_an_edit_of_the_rules_applies_at_once_in_this_process():
    entrance = AccessPointFactory()
    holder = with_pool_pass()
    moment = paris(2026, 3, 23, 3, 0)
    assert tap(holder, entrance, moment).granted  # no hours: open, and now cached
    hours = OpeningHoursFactory(facility=entrance.facility, weekday=0)
    assert tap(holder, entrance, moment).reason == "closed"
    hours.delete()
    assert tap(holder, entrance, moment).granted


def test_a_queued_offline_tap_is_judged_on_the_hours_of_its_own_time(entrance):
    holder = with_pool_pass()
    with time_machine.travel(paris(2026, 3, 24, 3, 0), tick=False):  # uploaded at night
        at_the_gate = paris(2026, 3, 23, 12, 30)
        assert decide(holder_id=holder.pk, access_point=entrance, at=at_the_gate).granted
        at_night = paris(2026, 3, 23, 22, 0)
        assert decide(holder_id=holder.pk, access_point=entrance, at=at_night).reason == "closed"


def test_the_summer_between_two_school_years_follows_the_holiday_hours(entrance):
    """The one table of school holidays is identity's school calendar: between the last day of
    classes of a school year and the first day of the next one, the holiday schedule applies."""
    for day in WEEKDAYS:
        OpeningHoursFactory(
            facility=entrance.facility,
            schedule=HOLIDAYS,
            weekday=day,
            opens=time(10),
            closes=time(19, 30),
        )
    SchoolYearFactory()  # 1 September 2026 to Saturday 3 July 2027
    SchoolYearFactory(name="2027-2028", starts_on=date(2027, 9, 1), ends_on=date(2028, 7, 1))
    holder = with_pool_pass()
    assert tap(holder, entrance, paris(2027, 7, 2, 10, 30)).reason == "closed"  # a school day
    assert tap(holder, entrance, paris(2027, 7, 5, 10, 30)).granted  # the summer
    assert tap(holder, entrance, paris(2027, 8, 31, 10, 30)).granted
    assert tap(holder, entrance, paris(2027, 9, 1, 10, 30)).reason == "closed"  # classes
