"""In a real browser (Debian's chromium, selenium), on a phone's width (390 px), at lunch on the
day: the school's canteen agent opens the service from Agents > Cantine, ticks a booked child
served, finds a child without booking by name and serves them (the page says the penalty
price), closes the service (one no-show recorded), then reads the day's counts."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from selenium.webdriver.common.by import By

from identity.models import StaffRole
from services.canteen import actions
from services.canteen.models import Booking
from tests.browser import fill, fits_a_phone, log_in, severe_console_errors, wait_for_text
from tests.factories import staff_user
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PARIS = ZoneInfo("Europe/Paris")
THURSDAY = date(2026, 12, 3)


def named(child, first: str, last: str) -> None:
    child.first_name, child.last_name = first, last
    child.save(update_fields=["first_name", "last_name"])


def state(child) -> tuple[str, bool]:
    booking = Booking.objects.get(child=child, day=THURSDAY)
    return booking.state, booking.without_booking


def test_the_canteen_agent_ticks_serves_without_booking_and_closes_the_service(
    browser, live_server
):
    with time_machine.travel(datetime(2026, 12, 1, 10, tzinfo=PARIS), tick=False):
        site = canteen_site()
        service = lunch(site)
        children = []
        for first, last in (("Léa", "Martin"), ("Hugo", "Petit"), ("Zoé", "Bernard")):
            guardian, child = enrolled_child(site)
            named(child, first, last)
            if first != "Zoé":
                actions.book_days(
                    actor=guardian.user, child=child, service=service, days=[THURSDAY], key="k"
                )
            children.append(child)
        lea, hugo, zoe = children
        agent = staff_user(StaffRole.Role.CANTEEN_AGENT, facility=site.school)

    # Thursday 3 December at lunch; time runs on from there.
    with time_machine.travel(datetime(2026, 12, 3, 12, 0, tzinfo=PARIS), tick=True):
        browser.set_window_size(390, 844)
        log_in(browser, live_server, agent)
        browser.get(live_server.url + reverse("canteen:kitchen_days") + "?jour=2026-12-03")
        browser.find_element(By.PARTIAL_LINK_TEXT, "pointer la liste").click()
        wait_for_text(browser, "Servir un enfant sans réservation")
        assert fits_a_phone(browser)

        # A tick: Léa is served, the page comes back to her row.
        row = browser.find_element(By.ID, f"enfant-{lea.public_id}")
        row.find_element(By.XPATH, ".//button[normalize-space()='Servi']").click()
        wait_for_text(browser, "Léa Martin : repas servi.")
        assert browser.current_url.endswith(f"#enfant-{lea.public_id}")
        row = browser.find_element(By.ID, f"enfant-{lea.public_id}")
        assert row.get_attribute("data-state") == "served"
        assert state(lea) == ("served", False)
        assert fits_a_phone(browser)

        # Zoé has no booking: found by name, served at the penalty price.
        fill(browser, nom="bern")
        browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
        wait_for_text(browser, "Zoé Bernard")
        found = browser.find_element(By.CSS_SELECTOR, f"li[data-found='{zoe.public_id}']")
        found.find_element(By.TAG_NAME, "button").click()
        wait_for_text(browser, "repas servi sans réservation : facturé au tarif majoré")
        assert state(zoe) == ("served", True)
        assert fits_a_phone(browser)

        # The service closed: Hugo, booked and not served, is a no-show.
        browser.find_element(By.CSS_SELECTOR, "form.close-form button").click()
        wait_for_text(browser, "Service clos : 1 absence enregistrée.")
        assert state(hugo) == ("absent", False)
        assert fits_a_phone(browser)

        # The month's counts.
        browser.get(live_server.url + reverse("canteen:kitchen_days"))
        browser.find_element(By.PARTIAL_LINK_TEXT, "Fréquentation de la cantine").click()
        wait_for_text(browser, "Par jour : les repas réservés")
        thursday = browser.find_element(By.CSS_SELECTOR, "tr[data-day='2026-12-03']")
        cells = [cell.text for cell in thursday.find_elements(By.TAG_NAME, "td")]
        assert cells == ["2", "1", "1", "1", "0"]
        assert fits_a_phone(browser)
        assert severe_console_errors(browser) == []
