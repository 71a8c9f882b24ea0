"""In a real browser (Debian's chromium, selenium), on a phone's width (390 px): a parent books
lunch on Mondays and Thursdays for three weeks, reads what was booked and skipped, cancels one
day on the month's calendar where each day says until when it may change, and declares a diet;
then the school's canteen agent opens the day's kitchen list with the diet counted."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from identity.models import StaffRole
from services.canteen.models import Booking, Diet
from tests.browser import fill, fits_a_phone, log_in, severe_console_errors, wait_for_text
from tests.factories import staff_user
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PARIS = ZoneInfo("Europe/Paris")


def booked(child) -> list[date]:
    return list(
        Booking.objects.filter(child=child, state="booked")
        .order_by("day")
        .values_list("day", flat=True)
    )


def tick(browser, selector: str) -> None:
    """A checkbox is ticked through its label, as a finger does (the box itself is styled)."""
    box = browser.find_element(By.CSS_SELECTOR, selector)
    box.find_element(By.XPATH, "./ancestor::label").click()


def test_a_parent_books_cancels_and_declares_a_diet_and_the_kitchen_counts_it(browser, live_server):
    # Tuesday 1 December 2026 in the morning; time runs on from there.
    with time_machine.travel(datetime(2026, 12, 1, 10, tzinfo=PARIS), tick=True):
        site = canteen_site()
        service = lunch(site)
        parent, child = enrolled_child(site)
        browser.set_window_size(390, 844)
        wait = WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,))
        log_in(browser, live_server, parent.user)

        # Mon espace → the canteen → the child's lunch.
        browser.get(live_server.url + reverse("portal:home"))
        browser.find_element(By.CSS_SELECTOR, f"a[href='{reverse('canteen:home')}']").click()
        month = reverse("canteen:month", args=[child.public_id, service.public_id])
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, f"a[href='{month}']"))
        browser.find_element(By.CSS_SELECTOR, f"a[href='{month}']").click()
        wait_for_text(browser, "modifiable jusqu’au")
        assert fits_a_phone(browser)

        # A pattern: Mondays and Thursdays, every week, until the Christmas holidays' end.
        browser.find_element(By.PARTIAL_LINK_TEXT, "semaines entières").click()
        wait.until(lambda b: b.find_elements(By.NAME, "weekdays"))
        assert fits_a_phone(browser)
        for weekday in ("0", "3"):
            tick(browser, f"input[name=weekdays][value='{weekday}']")
        fill(browser, start="2026-12-03", until="2026-12-24")
        browser.find_element(By.CSS_SELECTOR, "form.pattern-form button[type=submit]").click()
        wait_for_text(browser, "5 jours réservés")
        assert "Vacances de Noël" in browser.page_source  # 21 and 24 December, skipped
        assert fits_a_phone(browser)
        assert booked(child) == [
            date(2026, 12, 3),
            date(2026, 12, 7),
            date(2026, 12, 10),
            date(2026, 12, 14),
            date(2026, 12, 17),
        ]

        # One day cancelled on the month's calendar, before its deadline.
        browser.find_element(By.PARTIAL_LINK_TEXT, "jours un par un").click()
        wait_for_text(browser, "Enregistrer le mois")
        monday = browser.find_element(By.CSS_SELECTOR, "li[data-day='2026-12-07']")
        # (selenium's text shows the non-breaking spaces as spaces)
        assert "modifiable jusqu’au dimanche 6 décembre 2026 à 15 h 00" in monday.text
        monday.find_element(By.CSS_SELECTOR, "label.slot").click()
        browser.find_element(By.CSS_SELECTOR, "form.month-form button[type=submit]").click()
        wait_for_text(browser, "1 jour(s) annulé(s)")
        assert date(2026, 12, 7) not in booked(child)
        assert fits_a_phone(browser)

        # A diet, recorded once.
        browser.get(live_server.url + reverse("canteen:diets", args=[child.public_id]))
        tick(browser, "input[name=kinds][value=no_pork]")
        # A long one: the kitchen list's badge must wrap on a phone, not push the page sideways.
        tick(browser, "input[name=kinds][value=texture]")
        fill(browser, details_texture="morceaux coupés très petits et purée lisse sans grumeaux")
        browser.find_element(By.CSS_SELECTOR, "form.diet-form button[type=submit]").click()
        wait_for_text(browser, "Les régimes sont enregistrés.")
        assert fits_a_phone(browser)
        assert Diet.objects.filter(child=child, kind="no_pork").exists()
        assert severe_console_errors(browser) == []

    # Wednesday 2 December after 15:00: Thursday's list is final.
    with time_machine.travel(datetime(2026, 12, 2, 15, 30, tzinfo=PARIS), tick=True):
        agent = staff_user(StaffRole.Role.CANTEEN_AGENT, facility=site.school)
        browser.delete_all_cookies()
        log_in(browser, live_server, agent)
        browser.get(live_server.url + reverse("canteen:kitchen_days") + "?jour=2026-12-03")
        browser.find_element(By.PARTIAL_LINK_TEXT, "Ouvrir la liste").click()
        wait_for_text(browser, "Effectifs pour la cuisine")
        assert child.full_name in browser.page_source
        assert browser.find_element(By.CSS_SELECTOR, "dd[data-count='total']").text == "1"
        assert browser.find_element(By.CSS_SELECTOR, "dd[data-count='Sans porc']").text == "1"
        assert fits_a_phone(browser)
        assert severe_console_errors(browser) == []


def test_camille_opens_and_pays_her_canteen_invoice_from_a_fresh_demo(browser, live_server):
    """The demo as `make run` loads it on Monday 30 November 2026: October's lunches billed,
    the invoice in Mes paiements, its PDF, and the order's page offering to pay it online, from
    the wallet or at the régie's desk."""
    from documents_vault import demo as vault_demo
    from identity import demo as identity_demo
    from identity.models import User
    from payments import demo as payments_demo
    from services.canteen import demo, demo_invoices

    with time_machine.travel(datetime(2026, 11, 30, 9, tzinfo=PARIS), tick=True):
        identity_demo.load()
        payments_demo.load()
        vault_demo.load()
        demo.load()
        demo_invoices.load()
        browser.set_window_size(390, 844)
        log_in(browser, live_server, User.objects.get(email=identity_demo.RESIDENT_EMAIL))
        browser.get(live_server.url + reverse("payments:mine"))
        wait_for_text(browser, "CANTINE-2026-F000001")
        assert fits_a_phone(browser)
        invoice = browser.find_element(By.PARTIAL_LINK_TEXT, "CANTINE-2026-F000001")
        pdf_url = invoice.get_attribute("href")
        browser.find_element(By.LINK_TEXT, "Payer").click()
        wait_for_text(browser, "Accueil du midi (panier-repas apporté, PAI) (pour Tom)")
        assert "Repas majoré (sans réservation) (pour Léa)" in browser.page_source
        assert browser.find_elements(By.CSS_SELECTOR, "[data-pay-with-wallet]")
        assert fits_a_phone(browser)
        assert severe_console_errors(browser) == []
        # The PDF opens in the browser's viewer (its bytes are read in test_demo.py).
        browser.get(pdf_url)
        WebDriverWait(browser, 15).until(
            lambda b: "pdf" in b.execute_script("return document.contentType")
        )
