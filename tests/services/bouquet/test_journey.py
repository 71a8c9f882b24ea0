"""A civil-status request in a real browser (Debian's chromium), on a phone: the resident finds
it in the catalogue, fills its steps (the fields that do not apply hide themselves), checks the
summary and sends it; a clerk takes and accepts it from the queue; the resident sees it
accepted with its outcome to download. A clerk on a phone accepts a certificate to collect,
which books the appointment at the civil-status desk. No sideways scroll, no script error, no
CSP violation."""

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By

from services.appointments.models import Appointment, Desk
from services.civil_status.procedures import KEY
from services.procedures.models import ProcedureFile
from tests.browser import fits_a_phone, log_in, severe_console_errors, wait_for_text
from tests.factories import ResidentFactory, staff_user
from tests.services.appointments.factories import DeskFactory

from .test_booking_output import to_collect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def choose(browser, name: str, value: str) -> None:
    browser.find_element(By.CSS_SELECTOR, f"input[name='{name}'][value='{value}']").click()


def type_in(browser, name: str, text: str) -> None:
    field = browser.find_element(By.NAME, name)
    field.clear()
    field.send_keys(text)


def fine(browser) -> None:
    assert fits_a_phone(browser), browser.current_url
    assert severe_console_errors(browser) == []


def test_a_resident_asks_for_a_certificate_on_a_phone_and_a_clerk_accepts_it(browser, live_server):
    camille = ResidentFactory(first_name="Camille", last_name="Martin")
    browser.set_window_size(390, 900)
    log_in(browser, live_server, camille.user)
    browser.get(live_server.url + reverse("procedures:catalogue") + "?q=naissance")
    wait_for_text(browser, "Acte d’état civil")
    fine(browser)
    browser.find_element(By.LINK_TEXT, "Acte d’état civil").click()
    wait_for_text(browser, "Gratuit")
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for_text(browser, "Étape 1 sur 3")
    fine(browser)
    parents = browser.find_element(By.ID, "field-father_names")
    choose(browser, "act", "birth")
    choose(browser, "copy", "full_copy")
    assert parents.is_displayed()
    choose(browser, "copy", "extract_plain")
    assert not parents.is_displayed()  # the parents' names are not asked for this copy
    type_in(browser, "first_names", "Camille")
    browser.execute_script("document.querySelector('[name=event_date]').value = '1986-04-12'")
    browser.find_element(By.CSS_SELECTOR, "form.procedure-step button[type=submit]").click()
    wait_for_text(browser, "Étape 2 sur 3")
    choose(browser, "relationship", "self")
    browser.find_element(By.CSS_SELECTOR, "form.procedure-step button[type=submit]").click()
    wait_for_text(browser, "Étape 3 sur 3")
    choose(browser, "delivery", "email")
    assert not browser.find_element(By.ID, "field-address").is_displayed()
    browser.find_element(By.CSS_SELECTOR, "form.procedure-step button[type=submit]").click()
    wait_for_text(browser, "Vérifiez vos réponses")
    fine(browser)
    assert "Extrait sans filiation" in browser.find_element(By.TAG_NAME, "main").text
    browser.find_element(By.XPATH, "//button[contains(., 'Envoyer ma demande')]").click()
    wait_for_text(browser, "Votre demande est envoyée")
    fine(browser)
    file = ProcedureFile.objects.get(applicant=camille, type_key=KEY)
    assert file.state == "submitted"

    clerk = staff_user("clerk")
    browser.set_window_size(1280, 1000)
    log_in(browser, live_server, clerk)
    browser.get(live_server.url + reverse("procedures:queue"))
    wait_for_text(browser, "Camille Martin")
    browser.find_element(By.LINK_TEXT, "Acte d’état civil").click()
    wait_for_text(browser, "Commencer l’instruction")
    browser.find_element(By.XPATH, "//button[contains(., 'Commencer l’instruction')]").click()
    wait_for_text(browser, "l’habitant est prévenu")
    browser.find_element(By.XPATH, "//button[normalize-space()='Accepter']").click()
    wait_for_text(browser, "Marquer comme terminée")
    assert severe_console_errors(browser) == []

    browser.set_window_size(390, 900)
    log_in(browser, live_server, camille.user)
    browser.get(live_server.url + reverse("procedures:file", args=[file.public_id]))
    wait_for_text(browser, "Acceptée")
    fine(browser)
    assert browser.find_element(By.PARTIAL_LINK_TEXT, "Télécharger le résultat").is_displayed()


def test_a_clerk_on_a_phone_accepts_a_certificate_to_collect_and_books_the_appointment(
    browser, live_server
):
    DeskFactory(name="Guichet état civil", kind=Desk.Kind.CIVIL_STATUS)
    camille = ResidentFactory(first_name="Camille", last_name="Martin")
    file = to_collect(camille)
    browser.set_window_size(390, 900)
    log_in(browser, live_server, staff_user("clerk"))
    browser.get(live_server.url + reverse("procedures:staff_file", args=[file.public_id]))
    wait_for_text(browser, "Rendez-vous pour retirer l’acte")
    fine(browser)
    browser.find_element(By.XPATH, "//button[normalize-space()='Accepter']").click()
    wait_for_text(browser, "Marquer comme terminée")
    fine(browser)
    appointment = Appointment.objects.get(person=camille)
    log_in(browser, live_server, camille.user)
    browser.get(live_server.url + reverse("procedures:file", args=[file.public_id]))
    wait_for_text(browser, "Guichet état civil")
    fine(browser)
    assert appointment.desk.name in browser.find_element(By.TAG_NAME, "main").text
