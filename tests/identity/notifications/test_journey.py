"""SMS notifications in a real browser (Debian's chromium): a resident opens Mon compte, types
a landline and is told why it is refused, types their mobile, ticks the consent and finds the
confirmation in Mes messages; then stops the SMS. On a phone's width, with no script error and
no CSP violation."""

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By

from identity.notifications.models import SmsConsent
from tests.browser import fill, fits_a_phone, log_in, severe_console_errors, wait_for_text
from tests.factories import ResidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_resident_turns_sms_on_reads_the_confirmation_then_stops_them(browser, live_server):
    camille = ResidentFactory(first_name="Camille", last_name="Martin")
    browser.set_window_size(390, 844)
    log_in(browser, live_server, camille.user)
    browser.get(live_server.url + reverse("portal:account"))
    browser.find_element(By.LINK_TEXT, "Recevoir des SMS").click()
    wait_for_text(browser, "J’accepte de recevoir un SMS")

    fill(browser, mobile_number="05 65 20 87 87")
    browser.find_element(By.NAME, "consent").click()
    browser.find_element(By.CSS_SELECTOR, "main form [type=submit]").click()
    wait_for_text(browser, "Saisissez un numéro de mobile")

    fill(browser, mobile_number="06 12 34 56 78")
    assert browser.find_element(By.NAME, "consent").is_selected()  # kept from the refused try
    browser.find_element(By.CSS_SELECTOR, "main form [type=submit]").click()
    wait_for_text(browser, "vous recevrez les SMS à ce numéro")
    assert "+33612345678" in browser.find_element(By.TAG_NAME, "main").text
    assert fits_a_phone(browser)

    browser.find_element(By.LINK_TEXT, "Mes messages").click()
    wait_for_text(browser, "Vous recevrez désormais des SMS de Sésame")
    listed = browser.find_element(By.CSS_SELECTOR, ".notification-list").text
    assert listed.count("Envoyé") == 2  # the email and the SMS
    assert fits_a_phone(browser)

    browser.get(live_server.url + reverse("identity:sms"))
    browser.find_element(By.XPATH, "//button[normalize-space()='Arrêter les SMS']").click()
    wait_for_text(browser, "Sésame ne vous envoie plus de SMS")
    assert not SmsConsent.objects.get(user=camille.user).active
    assert severe_console_errors(browser, refused_forms=True) == []
