"""The kiosk screen in a real browser (Debian's chromium, driven by selenium): htmx polling,
the screen's script and the Content-Security-Policy all in play. CI runs it; it is skipped
where chromium is missing."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from card.actions.taps import process_tap
from kiosk.views import SCREEN_COOKIE
from tests.factories import CardFactory, EntitlementFactory, ResidentFactory, sun_url
from tests.kiosk.factories import kiosk_reader_with_token, paired_screen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_tap_appears_on_the_kiosk_screen_without_a_reload(browser, live_server):
    reader, _token = kiosk_reader_with_token()
    holder = ResidentFactory(first_name="Léa", last_name="Martin")
    card = CardFactory(holder=holder)
    EntitlementFactory(holder=holder)
    device = Client()
    paired_screen(device, reader)

    browser.get(live_server.url + reverse("account_login"))  # be on the site to set a cookie
    browser.add_cookie(
        {"name": SCREEN_COOKIE, "value": device.cookies[SCREEN_COOKIE].value, "path": "/"}
    )
    browser.get(f"{live_server.url}/borne/{reader.public_id}/")
    wait = WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,))
    wait.until(lambda b: b.find_element(By.CSS_SELECTOR, "[data-kiosk-state=idle]"))
    browser.execute_script("window.kioskPageMark = 'still here'")

    process_tap(
        reader=reader, credential=sun_url(card, 1), client_tap_id="k-1", reader_time=timezone.now()
    )
    shown = wait.until(lambda b: b.find_element(By.CSS_SELECTOR, "[data-kiosk-state=tap]"))
    assert "Léa" in shown.text
    assert "Martin" not in shown.text
    assert browser.execute_script("return window.kioskPageMark") == "still here"  # no reload
    assert not browser.find_element(By.CSS_SELECTOR, "[data-kiosk-offline]").is_displayed()

    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []  # no CSP violation, no script error


def test_a_resident_tops_up_their_wallet_on_the_kiosk(browser, live_server):
    """Tap → balance → "Top up my wallet" → 20 € → the demo's stand-in for the card terminal
    approves → "Payment accepted" and the new balance; large buttons, nothing to type."""
    from payments.queries import wallet_balance
    from tests.payments.factories import wallet_regie

    wallet_regie()
    reader, _token = kiosk_reader_with_token()
    holder = ResidentFactory(first_name="Léa", last_name="Martin")
    card = CardFactory(holder=holder)
    device = Client()
    paired_screen(device, reader)
    browser.get(live_server.url + reverse("account_login"))
    browser.add_cookie(
        {"name": SCREEN_COOKIE, "value": device.cookies[SCREEN_COOKIE].value, "path": "/"}
    )
    browser.get(f"{live_server.url}/borne/{reader.public_id}/")
    wait = WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,))
    wait.until(lambda b: b.find_element(By.CSS_SELECTOR, "[data-kiosk-state=idle]"))

    process_tap(
        reader=reader, credential=sun_url(card, 1), client_tap_id="k-1", reader_time=timezone.now()
    )
    balance = wait.until(lambda b: b.find_element(By.CSS_SELECTOR, "[data-kiosk-balance]"))
    assert "0,00" in balance.text

    def press(selector):
        button = wait.until(lambda b: b.find_element(By.CSS_SELECTOR, selector))
        size = button.size
        assert size["height"] >= 56, size  # a finger, not a mouse
        assert size["width"] >= 120, size
        button.click()

    press("[data-kiosk-do=topup]")
    press("[data-kiosk-amount='2000']")
    wait.until(lambda b: b.find_element(By.CSS_SELECTOR, "[data-kiosk-demo]"))
    assert (
        "Démo — aucun paiement réel"
        in browser.find_element(By.CSS_SELECTOR, "[data-kiosk-demo]").text
    )
    press("[data-kiosk-do=demo_approve]")
    paid = wait.until(lambda b: b.find_element(By.CSS_SELECTOR, "[data-kiosk-paid]"))
    assert "Paiement accepté" in paid.text  # French by default
    assert "20,00" in browser.find_element(By.CSS_SELECTOR, "[data-kiosk-balance]").text
    assert wallet_balance(holder.pk) == 2000
    # Nothing to type anywhere on the screen; no more than a first name.
    typed = browser.find_elements(
        By.CSS_SELECTOR, "input:not([type=hidden]), textarea, select, [contenteditable]"
    )
    assert typed == []
    assert "Martin" not in browser.find_element(By.TAG_NAME, "body").text
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
