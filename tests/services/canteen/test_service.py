"""At service, on the day: canteen staff tick the booked children served on the list (the tap's
code path: the same locks, counter and penalty), untick one ticked by mistake, serve a child
without booking at the penalty price, and close the service, which records the no-shows. Only
the school's canteen staff, on the day, a day the service runs; each change audited; bad input
refused with its reason, nothing written."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from identity.errors import DomainError, Forbidden
from identity.models import AuditEntry, StaffRole
from identity.schooling.models import SchoolClosure
from services.canteen import actions, gate
from services.canteen.models import Booking, ServiceDay
from tests.factories import (
    AccessPointFactory,
    CardFactory,
    PersonFactory,
    post_tap,
    reader_with_token,
    staff_user,
    sun_url,
)
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

PARIS = ZoneInfo("Europe/Paris")
THURSDAY = date(2026, 12, 3)
AT_LUNCH = datetime(2026, 12, 3, 12, 5, tzinfo=PARIS)


@pytest.fixture
def service_day():
    """Lunch at a school: Léa and Hugo booked for Thursday 3 December, Zoé enrolled but not
    booked; its canteen agent. The clock at Thursday's lunch."""
    with time_machine.travel(datetime(2026, 12, 1, 10, tzinfo=PARIS), tick=False):
        site = canteen_site()
        service = lunch(site)
        children = {}
        for first_name in ("Léa", "Hugo", "Zoé"):
            guardian, child = enrolled_child(site)
            child.first_name = first_name
            child.save(update_fields=["first_name"])
            if first_name != "Zoé":
                actions.book_days(
                    actor=guardian.user, child=child, service=service, days=[THURSDAY], key="k"
                )
            children[first_name] = child
        agent = staff_user(StaffRole.Role.CANTEEN_AGENT, facility=site.school)
    with time_machine.travel(AT_LUNCH, tick=False):
        yield service, agent, children


def state_of(child) -> tuple[str, bool] | None:
    booking = Booking.objects.filter(child=child, day=THURSDAY).first()
    return None if booking is None else (booking.state, booking.without_booking)


def kitchen_count(service) -> int:
    return ServiceDay.objects.get(service=service, day=THURSDAY).booked


def test_a_tick_serves_a_booked_child_once_audited(service_day):
    service, agent, children = service_day
    lea = children["Léa"]
    assert gate.serve_child(actor=agent, service=service, child=lea, day=THURSDAY) == "served"
    assert state_of(lea) == ("served", False)
    again = gate.serve_child(actor=agent, service=service, child=lea, day=THURSDAY)
    assert again == "already_served"
    assert kitchen_count(service) == 2  # booked places, unchanged
    entry = AuditEntry.objects.get(action="canteen.served")
    assert (entry.actor, entry.person, entry.channel) == (agent, lea, "counter")


def test_a_tick_and_a_tap_are_one_serve(service_day, client):
    """The tap after the tick finds the meal already served (the same code path)."""
    service, agent, children = service_day
    entrance = AccessPointFactory(facility=service.site.school, name="Entrée cantine")
    _reader, token = reader_with_token(access_point=entrance)
    card = CardFactory(holder=children["Léa"])
    gate.serve_child(actor=agent, service=service, child=children["Léa"], day=THURSDAY)
    answer = post_tap(client, token, credential=sun_url(card, 1)).json()
    assert (answer["granted"], answer["reason"]) == (True, "already_served")


def test_a_child_without_booking_is_served_at_the_penalty_price_and_counted(service_day):
    service, agent, children = service_day
    zoe = children["Zoé"]
    outcome = gate.serve_child(actor=agent, service=service, child=zoe, day=THURSDAY)
    assert outcome == "served_without_booking"
    assert state_of(zoe) == ("served", True)
    assert kitchen_count(service) == 3


def test_untick_puts_a_booked_meal_back_to_booked(service_day):
    service, agent, children = service_day
    lea = children["Léa"]
    gate.serve_child(actor=agent, service=service, child=lea, day=THURSDAY)
    gate.unserve_child(actor=agent, service=service, child=lea, day=THURSDAY)
    assert state_of(lea) == ("booked", False)
    assert kitchen_count(service) == 2
    assert AuditEntry.objects.filter(action="canteen.serve_undone", person=lea).count() == 1


def test_untick_of_a_meal_nobody_booked_leaves_nothing_to_bill(service_day):
    service, agent, children = service_day
    zoe = children["Zoé"]
    gate.serve_child(actor=agent, service=service, child=zoe, day=THURSDAY)
    gate.unserve_child(actor=agent, service=service, child=zoe, day=THURSDAY)
    assert state_of(zoe) is None
    assert kitchen_count(service) == 2


def test_untick_of_a_cancelled_booking_served_cancels_it_again(service_day):
    service, agent, children = service_day
    lea = children["Léa"]
    Booking.objects.filter(child=lea).update(state="cancelled")
    ServiceDay.objects.filter(service=service, day=THURSDAY).update(booked=1)
    outcome = gate.serve_child(actor=agent, service=service, child=lea, day=THURSDAY)
    assert outcome == "served_without_booking"
    assert kitchen_count(service) == 2
    gate.unserve_child(actor=agent, service=service, child=lea, day=THURSDAY)
    assert state_of(lea) == ("cancelled", False)
    assert kitchen_count(service) == 1


def test_untick_of_a_child_not_served_is_refused(service_day):
    service, agent, children = service_day
    with pytest.raises(DomainError) as refusal:
        gate.unserve_child(actor=agent, service=service, child=children["Léa"], day=THURSDAY)
    assert refusal.value.code == "not_served"
    assert state_of(children["Léa"]) == ("booked", False)


def test_closing_the_service_records_the_no_shows_once(service_day):
    service, agent, children = service_day
    gate.serve_child(actor=agent, service=service, child=children["Léa"], day=THURSDAY)
    assert gate.close_service(actor=agent, service=service, day=THURSDAY) == 1
    assert state_of(children["Hugo"]) == ("absent", False)
    assert gate.close_service(actor=agent, service=service, day=THURSDAY) == 0
    entries = AuditEntry.objects.filter(action="canteen.no_shows_recorded", actor=agent)
    assert entries.count() == 2


def test_a_booked_child_recorded_absent_who_turns_up_is_served_on_the_booking(service_day):
    service, agent, children = service_day
    gate.close_service(actor=agent, service=service, day=THURSDAY)
    hugo = children["Hugo"]
    assert gate.serve_child(actor=agent, service=service, child=hugo, day=THURSDAY) == "served"
    assert state_of(hugo) == ("served", False)  # not at the penalty price
    assert kitchen_count(service) == 2


# --- Refused, nothing written ----------------------------------------------------------------


def refused(service, agent, child, day) -> DomainError:
    before = list(Booking.objects.order_by("pk").values_list("pk", "state", "without_booking"))
    with pytest.raises(DomainError) as refusal:
        gate.serve_child(actor=agent, service=service, child=child, day=day)
    after = list(Booking.objects.order_by("pk").values_list("pk", "state", "without_booking"))
    assert after == before
    assert not AuditEntry.objects.filter(action="canteen.served").exists()
    return refusal.value


def test_a_child_not_enrolled_at_the_school_is_refused(service_day):
    service, agent, _children = service_day
    _guardian, elsewhere = enrolled_child(canteen_site("École Jean-Moulin"))
    assert refused(service, agent, elsewhere, THURSDAY).code == "not_enrolled"
    adult = PersonFactory(role="adult")
    assert refused(service, agent, adult, THURSDAY).code == "not_enrolled"


def test_a_day_other_than_today_is_refused(service_day):
    service, agent, children = service_day
    error = refused(service, agent, children["Léa"], date(2026, 12, 4))
    assert error.code == "not_today"
    assert "Friday 4 December 2026" in error.message


def test_a_day_the_service_does_not_run_is_refused(service_day):
    service, agent, children = service_day
    service.weekdays = "0,1,4"  # not on Thursdays
    service.save(update_fields=["weekdays"])
    error = refused(service, agent, children["Léa"], THURSDAY)
    assert error.code == "not_running"
    assert "does not run that day of the week" in error.message


def test_a_closed_day_is_refused(service_day):
    service, agent, children = service_day
    SchoolClosure.objects.create(school=service.site.school, day=THURSDAY, reason="Grève")
    error = refused(service, agent, children["Zoé"], THURSDAY)
    assert (error.code, "Grève" in error.message) == ("not_running", True)
    with pytest.raises(DomainError):
        gate.close_service(actor=agent, service=service, day=THURSDAY)
    assert state_of(children["Hugo"]) == ("booked", False)


def test_staff_of_another_school_are_refused(service_day):
    service, _agent, children = service_day
    other = staff_user(StaffRole.Role.CANTEEN_AGENT, facility=canteen_site("Autre").school)
    for act in (gate.serve_child, gate.unserve_child):
        with pytest.raises(Forbidden):
            act(actor=other, service=service, child=children["Léa"], day=THURSDAY)
    with pytest.raises(Forbidden):
        gate.close_service(actor=other, service=service, day=THURSDAY)
    assert state_of(children["Léa"]) == ("booked", False)
    assert state_of(children["Hugo"]) == ("booked", False)
