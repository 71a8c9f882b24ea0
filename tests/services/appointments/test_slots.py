"""A desk's slots: its weekly pattern cut into slots of its length, as many places as its
stations, nothing on a closed day, more on an exceptional opening; computed in Europe/Paris
wall-clock time so that 09:00 stays 09:00 across both daylight-saving changes of 2027
(28 March and 31 October), where existing systems have shown slots an hour off."""

from datetime import UTC, date, datetime, time

import pytest
from django.utils import timezone

from services.appointments import queries
from tests.services.appointments.factories import DeskFactory, closure, opening

pytestmark = pytest.mark.django_db

SPRING = date(2027, 3, 28)  # a Sunday: 02:00 CET becomes 03:00 CEST
AUTUMN = date(2027, 10, 31)  # a Sunday: 03:00 CEST becomes 02:00 CET


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local_times(slots) -> list[str]:
    return [f"{timezone.localtime(s.starts_at):%H:%M}" for s in slots]


def test_a_pattern_is_cut_into_slots_of_the_desks_length_with_a_place_per_station():
    desk = DeskFactory(slot_minutes=30, stations=2, hours=[(0, time(9), time(11))])
    monday = date(2027, 1, 4)
    slots = queries.slots_of(desk, monday, monday)
    assert local_times(slots) == ["09:00", "09:30", "10:00", "10:30"]
    assert {s.places for s in slots} == {2}
    assert slots[-1].ends_at == utc(2027, 1, 4, 10, 0)  # 11:00 in Paris, winter time


def test_a_slot_that_would_end_after_closing_is_not_offered():
    desk = DeskFactory(slot_minutes=20, hours=[(0, time(9), time(10, 30))])
    monday = date(2027, 1, 4)
    assert local_times(queries.slots_of(desk, monday, monday)) == [
        "09:00",
        "09:20",
        "09:40",
        "10:00",
    ]


def test_a_closed_day_has_no_slot_and_an_exceptional_opening_adds_some():
    desk = DeskFactory()
    monday, saturday = date(2027, 1, 4), date(2027, 1, 9)
    closure(desk, monday)
    opening(desk, saturday, time(10), time(10, 30))
    opening(desk, monday, time(14), time(15))  # the closure wins the same day
    assert queries.slots_of(desk, monday, monday) == []
    assert local_times(queries.slots_of(desk, saturday, saturday)) == ["10:00", "10:15"]


def test_nine_oclock_stays_nine_oclock_across_the_spring_change():
    desk = DeskFactory(hours=[(d, time(9), time(9, 30)) for d in range(7)])
    slots = queries.slots_of(desk, date(2027, 3, 27), date(2027, 3, 29))
    assert [s.starts_at for s in slots if timezone.localtime(s.starts_at).minute == 0] == [
        utc(2027, 3, 27, 8, 0),  # Saturday, UTC+1
        utc(2027, 3, 28, 7, 0),  # Sunday of the change, UTC+2
        utc(2027, 3, 29, 7, 0),  # Monday, UTC+2
    ]
    assert set(local_times(slots)) == {"09:00", "09:15"}


def test_nine_oclock_stays_nine_oclock_across_the_autumn_change():
    desk = DeskFactory(hours=[(d, time(9), time(9, 30)) for d in range(7)])
    slots = queries.slots_of(desk, date(2027, 10, 30), date(2027, 11, 1))
    assert [s.starts_at for s in slots if timezone.localtime(s.starts_at).minute == 0] == [
        utc(2027, 10, 30, 7, 0),  # Saturday, UTC+2
        utc(2027, 10, 31, 8, 0),  # Sunday of the change, UTC+1
        utc(2027, 11, 1, 8, 0),  # Monday, UTC+1
    ]


def test_the_hour_the_clocks_skip_in_spring_has_no_slot():
    desk = DeskFactory(hours=[])
    opening(desk, SPRING, time(1, 30), time(3, 30))
    slots = queries.slots_of(desk, SPRING, SPRING)
    assert local_times(slots) == ["01:30", "01:45", "03:00", "03:15"]
    assert [s.starts_at for s in slots] == [
        utc(2027, 3, 28, 0, 30),
        utc(2027, 3, 28, 0, 45),
        utc(2027, 3, 28, 1, 0),
        utc(2027, 3, 28, 1, 15),
    ]


def test_the_hour_the_clocks_pass_twice_in_autumn_gives_each_slot_once():
    desk = DeskFactory(hours=[])
    opening(desk, AUTUMN, time(1, 30), time(3, 30))
    slots = queries.slots_of(desk, AUTUMN, AUTUMN)
    assert local_times(slots) == [
        "01:30",
        "01:45",
        "02:00",
        "02:15",
        "02:30",
        "02:45",
        "03:00",
        "03:15",
    ]
    starts = [s.starts_at for s in slots]
    assert starts == sorted(set(starts))  # in order, none twice
    assert starts[2] == utc(2027, 10, 31, 0, 0)  # 02:00, its first occurrence (UTC+2)
    assert starts[6] == utc(2027, 10, 31, 2, 0)  # 03:00, UTC+1


def test_a_slot_lasts_its_length_in_real_time_on_the_night_of_a_change():
    desk = DeskFactory(slot_minutes=60, hours=[])
    opening(desk, SPRING, time(1), time(4))
    slots = queries.slots_of(desk, SPRING, SPRING)
    assert local_times(slots) == ["01:00", "03:00"]
    assert all((s.ends_at - s.starts_at).total_seconds() == 3600 for s in slots)
