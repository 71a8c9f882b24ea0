"""The month's form sent twice at once (a double tap on a slow phone), on PostgreSQL: the
second waits on the form's key until the first commits and gets its answer; the days are
booked and cancelled once, and the day's counters moved once."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from services.canteen import actions
from services.canteen.models import Booking, ServiceDay
from tests.concurrency import at_once
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THURSDAY, FRIDAY = date(2026, 12, 3), date(2026, 12, 4)


def test_the_same_form_sent_twice_at_once_changes_the_days_once():
    with time_machine.travel(datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("Europe/Paris"))):
        site = canteen_site()
        service = lunch(site)
        guardian, child = enrolled_child(site)
        actions.book_days(
            actor=guardian.user, child=child, service=service, days=[FRIDAY], key="first"
        )

        def send():
            return actions.set_days(
                actor=guardian.user,
                child=child,
                service=service,
                offered=[THURSDAY, FRIDAY],
                chosen=[THURSDAY],
                key="month-form",
            )

        first, second = at_once(send, send)
    assert first == second
    assert (first.booked, first.cancelled) == ([THURSDAY], [FRIDAY])
    states = dict(Booking.objects.filter(child=child).values_list("day", "state"))
    assert states == {THURSDAY: "booked", FRIDAY: "cancelled"}
    counters = dict(ServiceDay.objects.filter(service=service).values_list("day", "booked"))
    assert counters == {THURSDAY: 1, FRIDAY: 0}
