"""The four booking rules towns use, turned into the instant a day closes (Europe/Paris)."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from identity.schooling.calendar import school_calendar
from services.canteen.models import Service
from services.canteen.rules import deadline
from tests.services.canteen.factories import school_year

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def service(**rule) -> Service:
    return Service(weekdays="0,1,2,3,4", capacity=10, **rule)


def closes(svc: Service, day: date) -> datetime:
    school_year()
    return deadline(svc, day, school_calendar(None, date(2026, 9, 1), date(2027, 7, 31)))


def test_until_1500_the_day_before():
    svc = service(rule=Service.Rule.DAYS_BEFORE, rule_days=1, rule_time=time(15))
    assert closes(svc, date(2026, 12, 3)) == datetime(2026, 12, 2, 15, tzinfo=PARIS)


def test_until_tuesday_2359_for_the_whole_next_week():
    svc = service(rule=Service.Rule.WEEK_BEFORE, rule_weekday=1, rule_time=time(23, 59, 59))
    tuesday = datetime(2026, 12, 1, 23, 59, 59, tzinfo=PARIS)
    for day in range(7, 12):  # Monday 7 to Friday 11 December
        assert closes(svc, date(2026, 12, day)) == tuesday


def test_two_working_days_ahead_weekends_and_public_holidays_not_counted():
    svc = service(rule=Service.Rule.WORKING_DAYS_BEFORE, rule_days=2, rule_time=time(12))
    # Tuesday 8 December: Friday 4 (Monday 7 is one, Friday 4 the second).
    assert closes(svc, date(2026, 12, 8)) == datetime(2026, 12, 4, 12, tzinfo=PARIS)
    # Thursday 12 November 2026: Wednesday 11 is Armistice Day, so Tuesday 10 then Monday 9.
    assert closes(svc, date(2026, 11, 12)) == datetime(2026, 11, 9, 12, tzinfo=PARIS)


def test_fifteen_days_ahead_for_the_holidays():
    svc = service(
        rule=Service.Rule.DAYS_BEFORE,
        rule_days=1,
        rule_time=time(15),
        holiday_rule_days=15,
        runs_in_holidays=True,
    )
    assert closes(svc, date(2026, 12, 22)) == datetime(2026, 12, 7, 15, tzinfo=PARIS)
    assert closes(svc, date(2027, 1, 5)) == datetime(2027, 1, 4, 15, tzinfo=PARIS)


def test_a_deadline_across_the_change_to_summer_time_stays_at_wall_clock_time():
    svc = service(rule=Service.Rule.DAYS_BEFORE, rule_days=1, rule_time=time(15))
    closing = closes(svc, date(2027, 3, 29))  # clocks go forward on Sunday 28 March 2027
    assert closing.utcoffset().total_seconds() == 7200
    assert closing.astimezone(PARIS).time() == time(15)
