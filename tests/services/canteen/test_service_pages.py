"""Agents > Cantine > a service > « Service »: the day's list per class with a POST form per
child (no JavaScript needed; back to the child's row), the search for a child to serve
without booking, the close of the service; only the school's canteen staff."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from identity.models import AuditEntry, StaffRole
from identity.schooling.models import SchoolClosure
from services.canteen import actions
from services.canteen.models import Booking
from tests.factories import staff_user
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch

pytestmark = [pytest.mark.django_db]

PARIS = ZoneInfo("Europe/Paris")
THURSDAY = date(2026, 12, 3)


@pytest.fixture
def service_day():
    """Lunch at a school, Léa Martin booked for Thursday 3 December, Zoé Bernard enrolled and
    not booked, the school's canteen agent; the clock at Thursday's lunch."""
    with time_machine.travel(datetime(2026, 12, 1, 10, tzinfo=PARIS), tick=False):
        site = canteen_site()
        service = lunch(site)
        guardian, lea = enrolled_child(site)
        _other, zoe = enrolled_child(site)
        for child, (first, last) in ((lea, ("Léa", "Martin")), (zoe, ("Zoé", "Bernard"))):
            child.first_name, child.last_name = first, last
            child.save(update_fields=["first_name", "last_name"])
        actions.book_days(actor=guardian.user, child=lea, service=service, days=[THURSDAY], key="k")
        agent = staff_user(StaffRole.Role.CANTEEN_AGENT, facility=site.school)
    with time_machine.travel(datetime(2026, 12, 3, 12, 5, tzinfo=PARIS), tick=False):
        yield service, agent, lea, zoe


def urls(service, day=THURSDAY) -> dict[str, str]:
    args = [service.public_id, day.isoformat()]
    return {name: reverse(f"canteen:{name}", args=args) for name in ("service", "serve", "close")}


def test_the_list_has_a_served_button_per_child_and_a_tick_comes_back_to_the_row(
    service_day, client
):
    service, agent, lea, _zoe = service_day
    client.force_login(agent)
    page = client.get(urls(service)["service"]).content.decode()
    assert "Léa Martin" in page
    assert f'id="enfant-{lea.public_id}"' in page
    assert ">Servi</button>" in page
    assert AuditEntry.objects.filter(action="canteen.service_list_opened").count() == 1
    response = client.post(urls(service)["serve"], {"enfant": lea.public_id})
    assert response.status_code == 302
    assert response["Location"] == f"{urls(service)['service']}#enfant-{lea.public_id}"
    assert Booking.objects.get(child=lea).state == "served"
    page = client.get(response["Location"]).content.decode()
    assert "Léa Martin\u00a0: repas servi." in page
    assert ">Décocher</button>" in page  # untick, the same day


def test_a_child_without_booking_is_found_by_name_and_served_at_the_penalty_price(
    service_day, client
):
    service, agent, _lea, zoe = service_day
    client.force_login(agent)
    page = client.get(urls(service)["service"], {"nom": "bernard zo"}).content.decode()
    assert "Zoé Bernard" in page
    assert AuditEntry.objects.filter(action="canteen.children_searched").count() == 1
    response = client.post(urls(service)["serve"], {"enfant": zoe.public_id}, follow=True)
    page = response.content.decode()
    assert "servi sans réservation" in page
    assert "facturé au tarif majoré" in page
    booking = Booking.objects.get(child=zoe)
    assert (booking.state, booking.without_booking) == ("served", True)


def test_an_unknown_child_or_another_day_is_a_message_and_nothing_is_written(service_day, client):
    service, agent, lea, _zoe = service_day
    client.force_login(agent)
    page = client.post(urls(service)["serve"], {"enfant": "nobody"}, follow=True)
    assert "Enfant inconnu" in page.content.decode()
    friday = urls(service, date(2026, 12, 4))
    page = client.post(friday["serve"], {"enfant": lea.public_id}, follow=True).content.decode()
    assert "le jour du service" in page
    assert ">Servi</button>" not in page  # no ticking on another day
    assert Booking.objects.get(child=lea).state == "booked"
    assert not AuditEntry.objects.filter(action="canteen.served").exists()


def test_closing_the_service_says_how_many_no_shows(service_day, client):
    service, agent, lea, _zoe = service_day
    client.force_login(agent)
    page = client.post(urls(service)["close"], follow=True).content.decode()
    assert "1 absence enregistrée" in page
    assert Booking.objects.get(child=lea).state == "absent"
    page = client.post(urls(service)["close"], follow=True).content.decode()
    assert "0 absence enregistrée" in page


def test_staff_of_another_school_and_residents_are_refused(service_day, client):
    service, _agent, lea, _zoe = service_day
    other = staff_user(StaffRole.Role.CANTEEN_AGENT, facility=canteen_site("Autre").school)
    for user in (other, lea.household.members.exclude(pk=lea.pk).first().user):
        client.force_login(user)
        assert client.get(urls(service)["service"]).status_code == 403
        assert client.post(urls(service)["serve"], {"enfant": lea.public_id}).status_code == 403
        assert client.post(urls(service)["close"]).status_code == 403
    assert Booking.objects.get(child=lea).state == "booked"


def test_agents_cantine_links_the_days_service_and_the_months_counts(service_day, client):
    service, agent, _lea, _zoe = service_day
    client.force_login(agent)
    page = client.get(reverse("canteen:kitchen_days")).content.decode()
    assert urls(service)["service"] in page
    assert reverse("canteen:meals") in page
    kitchen = reverse("canteen:kitchen", args=[service.public_id, THURSDAY.isoformat()])
    assert urls(service)["service"] in client.get(kitchen).content.decode()
    friday = client.get(reverse("canteen:kitchen_days"), {"jour": "2026-12-04"}).content.decode()
    assert urls(service, date(2026, 12, 4))["service"] not in friday  # ticked on the day only


def test_on_a_closed_day_the_page_says_why_and_offers_nothing_to_tick(service_day, client):
    service, agent, _lea, _zoe = service_day
    SchoolClosure.objects.create(school=service.site.school, day=THURSDAY, reason="Grève")
    client.force_login(agent)
    page = client.get(urls(service)["service"]).content.decode()
    assert "Pas de service ce jour-là\u00a0: fermé (Grève)." in page
    assert ">Servi</button>" not in page
    assert "Clore le service</button>" not in page
