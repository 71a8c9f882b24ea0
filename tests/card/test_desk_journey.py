"""The staff desk in a real browser (Debian's chromium, driven by selenium): htmx, the desk's
script and the Content-Security-Policy all in play."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from card.actions.taps import process_tap
from card.models import Tap
from identity.models import Facility, StaffRole
from tests.browser import log_in
from tests.factories import (
    AccessPointFactory,
    CardFactory,
    EntitlementFactory,
    FacilityFactory,
    ResidentFactory,
    card_number,
    reader_with_token,
    staff_user,
    sun_url,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_types_a_card_number_and_sees_granted_in_large_type(browser, live_server):
    pool = FacilityFactory(name="Piscine de Cahors", kind=Facility.Kind.POOL)
    entrance = AccessPointFactory(facility=pool)
    agent = staff_user(StaffRole.Role.POOL_AGENT, facility=pool)
    number = card_number(42)
    holder = ResidentFactory(first_name="Léa", last_name="Martin")
    card = CardFactory(number=number, holder=holder, uid="04000000000042")
    book = EntitlementFactory(holder=holder)
    with translation.override(settings.LANGUAGE_CODE):  # the site speaks French by default
        granted_label = gettext("Granted")
        refused_label = gettext("Refused")

    log_in(browser, live_server, agent)
    browser.get(live_server.url + reverse("card:desk", args=[entrance.public_id]))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    wait = WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,))

    # The cursor waits in the number field; the agent types and presses Enter.
    field = browser.switch_to.active_element
    assert field.get_attribute("id") == "desk-credential"
    browser.execute_script("window.deskPageMark = 'still here'")
    field.send_keys(" ".join(number[i : i + 4] for i in range(0, 16, 4)), Keys.ENTER)

    verdict = wait.until(
        lambda b: b.find_element(By.CSS_SELECTOR, "#desk-decision [data-decision=granted]")
    )
    label = verdict.find_element(By.CSS_SELECTOR, ".desk-verdict-label")
    assert granted_label in label.text
    assert float(label.value_of_css_property("font-size").removesuffix("px")) >= 48
    assert "Léa" in verdict.text
    assert "Martin" not in verdict.text
    assert browser.execute_script("return window.deskPageMark") == "still here"  # no reload
    # The field is emptied and focused again for the next person.
    wait.until(lambda b: b.switch_to.active_element.get_attribute("id") == "desk-credential")
    assert browser.find_element(By.ID, "desk-credential").get_attribute("value") == ""
    book.refresh_from_db()
    assert book.entries_left == 9
    assert Tap.objects.get().credential == Tap.Credential.NUMBER

    # The screen follows the reader at this entrance: a cloned card message is refused there.
    reader, _token = reader_with_token(access_point=entrance)
    message = sun_url(card, 1)
    for tap_id in ["gate-1", "gate-2"]:
        process_tap(
            reader=reader, credential=message, client_tap_id=tap_id, reader_time=timezone.now()
        )
    refused = wait.until(
        lambda b: b.find_element(By.CSS_SELECTOR, "#desk-decision [data-decision=refused]")
    )
    assert refused_label in refused.text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#desk-history tbody tr")) == 3

    # The camera button is shown only where the browser can read QR codes with a camera.
    camera = browser.find_element(By.CSS_SELECTOR, "[data-desk-camera]")
    can_scan = browser.execute_script("return 'BarcodeDetector' in window")
    if not can_scan:
        assert not camera.is_displayed()

    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []  # no CSP violation, no script error
