"""Agents > Cantine > Fréquentation: per service and month, each day's meals booked, served,
served without booking, no-shows and cancelled bookings, with the totals, in one aggregate
query, as a page and a CSV file; the canteen staff of the school only. And the evening's
`canteen_record_no_shows`, which records the day's no-shows once."""

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from identity.models import Facility, StaffRole
from identity.schooling.models import SchoolClosure
from services.canteen import actions, gate, queries
from services.canteen.management.commands.canteen_record_no_shows import default_day
from services.canteen.models import Booking
from services.catalog import registry
from tests.factories import AccessPointFactory, FacilityFactory, staff_user
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch

pytestmark = [pytest.mark.django_db]

PARIS = ZoneInfo("Europe/Paris")
THURSDAY, FRIDAY = date(2026, 12, 3), date(2026, 12, 4)


@pytest.fixture
def december():
    """Lunch at a school; four children booked Thursday 3 and Friday 4 December; the first
    cancels Friday. On Thursday the second and third are served, a fifth child is served
    without booking, the service is closed: the fourth is a no-show."""
    with time_machine.travel(datetime(2026, 12, 1, 10, tzinfo=PARIS), tick=False):
        site = canteen_site()
        service = lunch(site)
        families = [enrolled_child(site) for _ in range(5)]
        for guardian, child in families[:4]:
            actions.book_days(
                actor=guardian.user,
                child=child,
                service=service,
                days=[THURSDAY, FRIDAY],
                key=child.public_id,
            )
        first_guardian, first = families[0]
        actions.cancel_days(actor=first_guardian.user, child=first, service=service, days=[FRIDAY])
        agent = staff_user(StaffRole.Role.CANTEEN_AGENT, facility=site.school)
    with time_machine.travel(datetime(2026, 12, 3, 12, 5, tzinfo=PARIS), tick=False):
        for _guardian, child in (families[1], families[2], families[4]):
            gate.serve_child(actor=agent, service=service, child=child, day=THURSDAY)
        gate.serve_child(actor=agent, service=service, child=first, day=THURSDAY)
        gate.close_service(actor=agent, service=service, day=THURSDAY)
    return service, agent


def test_each_day_is_counted_in_one_query(december):
    service, _agent = december
    with CaptureQueriesContext(connection) as queries_run:
        month = queries.meal_month(service, date(2026, 12, 1))
    assert len(queries_run) == 1
    days = {day.day: day for day in month.days}
    thursday, friday = days[THURSDAY], days[FRIDAY]
    assert (thursday.booked, thursday.served, thursday.without_booking) == (4, 3, 1)
    assert (thursday.absent, thursday.cancelled) == (1, 0)
    assert (friday.booked, friday.served, friday.absent, friday.cancelled) == (3, 0, 0, 1)
    # Every day lunch runs (Monday, Tuesday, Thursday, Friday), none other.
    assert len(month.days) == 18
    assert date(2026, 12, 2) not in days  # a Wednesday
    total = month.total
    assert (total.booked, total.served, total.without_booking) == (7, 3, 1)
    assert (total.absent, total.cancelled) == (1, 1)


def test_the_page_and_the_csv_for_the_schools_canteen_agent(december, client):
    service, agent = december
    client.force_login(agent)
    wanted = {"service": service.public_id, "mois": "2026-12"}
    page = client.get(reverse("canteen:meals"), wanted).content.decode()
    assert "Fréquentation de la cantine" in page
    assert 'data-day="2026-12-03"' in page
    assert "Jeudi 3 décembre" in page
    response = client.get(reverse("canteen:meals_csv"), wanted)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [
        "Jour",
        "Réservés",
        "Servis",
        "Servis sans réservation",
        "Absents",
        "Annulés",
    ]
    assert ["2026-12-03", "4", "3", "1", "1", "0"] in rows
    assert rows[-1] == ["Total", "7", "3", "1", "1", "1"]


def test_another_schools_staff_and_residents_are_refused(december, client):
    service, _agent = december
    other = staff_user(StaffRole.Role.CANTEEN_AGENT, facility=canteen_site("Autre").school)
    client.force_login(other)
    wanted = {"service": service.public_id}
    assert client.get(reverse("canteen:meals"), wanted).status_code == 403
    assert client.get(reverse("canteen:meals_csv"), wanted).status_code == 403
    page = client.get(reverse("canteen:meals")).content.decode()
    assert service.public_id not in page  # their own school's services only
    guardian, _child = enrolled_child(service.site)
    client.force_login(guardian.user)
    assert client.get(reverse("canteen:meals")).status_code == 403


# --- The evening's command ---------------------------------------------------------------------


@pytest.fixture
def booked_thursday():
    with time_machine.travel(datetime(2026, 12, 1, 10, tzinfo=PARIS), tick=False):
        site = canteen_site()
        service = lunch(site)
        guardian, child = enrolled_child(site)
        actions.book_days(
            actor=guardian.user, child=child, service=service, days=[THURSDAY, FRIDAY], key="k"
        )
    return service, child


def states(child) -> dict[date, str]:
    return dict(Booking.objects.filter(child=child).values_list("day", "state"))


def test_the_command_records_todays_no_shows_once(booked_thursday, capsys):
    _service, child = booked_thursday
    with time_machine.travel(datetime(2026, 12, 3, 20, 30, tzinfo=PARIS), tick=False):
        call_command("canteen_record_no_shows")
        assert states(child) == {THURSDAY: "absent", FRIDAY: "booked"}
        call_command("canteen_record_no_shows")  # again: nothing more
    assert capsys.readouterr().out.splitlines()[-1] == "2026-12-03: 0 no-show(s) recorded"


def test_a_run_made_up_at_boot_the_next_morning_records_the_evening_before(booked_thursday):
    assert default_day(datetime(2026, 12, 4, 7, 0, tzinfo=PARIS)) == THURSDAY
    assert default_day(datetime(2026, 12, 4, 20, 30, tzinfo=PARIS)) == FRIDAY
    _service, child = booked_thursday
    with time_machine.travel(datetime(2026, 12, 4, 7, 0, tzinfo=PARIS), tick=False):
        call_command("canteen_record_no_shows")
    assert states(child) == {THURSDAY: "absent", FRIDAY: "booked"}  # Friday's lunch is to come


def test_the_command_takes_a_day_and_leaves_a_closed_day_alone(booked_thursday):
    service, child = booked_thursday
    SchoolClosure.objects.create(school=service.site.school, day=FRIDAY, reason="Grève")
    call_command("canteen_record_no_shows", "--day", "2026-12-04")
    assert states(child)[FRIDAY] == "booked"  # not billed as a no-show on a strike day
    call_command("canteen_record_no_shows", "--day", "2026-12-03")
    assert states(child)[THURSDAY] == "absent"


def test_the_lunch_is_shown_first_and_the_services_in_the_order_of_a_school_day(client):
    from services.canteen.models import Service

    site = canteen_site()
    evening = lunch(site, kind=Service.Kind.EVENING_CARE)
    midday = lunch(site)
    morning = lunch(site, kind=Service.Kind.MORNING_CARE)
    client.force_login(staff_user(StaffRole.Role.CANTEEN_AGENT, facility=site.school))
    page = client.get(reverse("canteen:meals"))
    assert page.context["chosen"] == midday
    assert page.context["services"] == [morning, midday, evening]


def test_the_attendance_page_of_a_school_links_the_meals_of_its_canteen(december, client):
    """Agents > Fréquentation counts entries at the school's gate; the meals booked and served
    are the canteen's page, which the services registry links from there (its lunch first)."""
    service, agent = december
    other_site = canteen_site("École du Pont Valentré")
    evening = lunch(other_site, kind="evening_care", weekdays="0,1,3,4")
    AccessPointFactory(facility=service.site.school, name="Portillon de la cantine")
    client.force_login(agent)
    page = client.get(reverse("card:attendance")).content.decode()
    meals = f"{reverse('canteen:meals')}?service={service.public_id}"
    assert f'<a href="{meals}">Repas réservés et servis à la cantine de l’école</a>' in page
    assert "Fréquentation de la cantine" in client.get(meals).content.decode()
    # The figures of the school chosen, for a school with a service, and only of schools.
    assert registry.figures_for(other_site.school) == [
        (
            "Repas réservés et servis à la cantine de l’école",
            f"{reverse('canteen:meals')}?service={evening.public_id}",
        )
    ]
    assert registry.figures_for(FacilityFactory(kind=Facility.Kind.SCHOOL)) == []
    assert registry.figures_for(AccessPointFactory().facility) == []  # a pool
