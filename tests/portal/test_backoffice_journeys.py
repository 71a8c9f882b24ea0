"""The back office in a real browser at a phone's width (390 px): an administrator reads and
filters the audit trail; a clerk opens a file with a reason, corrects a name, is refused a
correction without a reason, and the resident reads the correction in Who looked at my file."""

from datetime import date

import pytest
from django.urls import reverse
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from identity.actions.audit import record_audit_entry
from identity.models import AuditEntry, StaffRole
from tests.browser import fill, fits_a_phone, log_in, severe_console_errors, wait_for_text
from tests.factories import ResidentFactory, staff_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = (390, 844)


@pytest.fixture
def phone(browser):
    browser.set_window_size(*PHONE)
    return browser


def named_staff(role: str, first_name: str, last_name: str):
    user = staff_user(role)
    user.first_name, user.last_name = first_name, last_name
    user.save()
    return user


def test_an_administrator_filters_the_audit_trail_on_a_phone(phone, live_server):
    camille = ResidentFactory(first_name="Camille", last_name="Martin")
    clerk = named_staff(StaffRole.Role.CLERK, "Paul", "Roux")
    finance = named_staff(StaffRole.Role.FINANCE_OFFICER, "Sophie", "Lacombe")
    record_audit_entry(
        actor=clerk,
        action="staff.file_viewed",
        household=camille.household,
        reason="phone",
        channel=AuditEntry.Channel.PHONE,
    )
    record_audit_entry(actor=finance, action="payments.open_payment", person=camille)
    admin = named_staff(StaffRole.Role.ADMIN, "Claire", "Fabre")
    wait = WebDriverWait(phone, 15, ignored_exceptions=(StaleElementReferenceException,))

    log_in(phone, live_server, admin)
    phone.get(live_server.url + reverse("portal:staff_home"))
    wait.until(lambda b: b.find_elements(By.LINK_TEXT, "Journal d’audit"))[0].click()
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "div.audit-trail > article"))
    trail = phone.find_element(By.CSS_SELECTOR, "div.audit-trail").text
    assert "Paiement consulté" in trail
    assert "Sophie Lacombe" in trail
    assert "payments.open_payment" not in trail
    assert fits_a_phone(phone)

    phone.find_element(By.TAG_NAME, "summary").click()
    Select(phone.find_element(By.NAME, "channel")).select_by_visible_text("Téléphone")
    phone.find_element(By.CSS_SELECTOR, "details form [type=submit]").click()
    wait.until(lambda b: "channel=phone" in b.current_url)
    entries = phone.find_elements(By.CSS_SELECTOR, "div.audit-trail > article")
    texts = [entry.text for entry in entries]
    assert any("Dossier ouvert" in text and "Paul Roux" in text for text in texts)
    assert not any("Paiement consulté" in text for text in texts)
    assert fits_a_phone(phone)
    assert AuditEntry.objects.filter(action="audit.trail_viewed", actor=admin).count() == 2
    assert severe_console_errors(phone) == []


def test_a_clerk_corrects_a_name_on_a_phone_and_the_resident_reads_it(phone, live_server):
    camille = ResidentFactory(first_name="Camile", last_name="Martin", birth_date=date(1986, 4, 12))
    clerk = named_staff(StaffRole.Role.CLERK, "Paul", "Roux")
    wait = WebDriverWait(phone, 15, ignored_exceptions=(StaleElementReferenceException,))

    log_in(phone, live_server, clerk)
    phone.get(live_server.url + reverse("identity:staff_search"))
    fill(phone, q="Martin")
    Select(phone.find_element(By.NAME, "reason")).select_by_value("counter")
    phone.find_element(By.CSS_SELECTOR, "main form [type=submit]").click()
    wait.until(lambda b: b.find_elements(By.PARTIAL_LINK_TEXT, "Martin Camile"))[0].click()
    wait.until(lambda b: "Dossier de l’habitant" in b.find_element(By.TAG_NAME, "h1").text)
    Select(phone.find_element(By.NAME, "reason")).select_by_value("counter")
    phone.find_element(By.CSS_SELECTOR, "main form [type=submit]").click()
    wait.until(lambda b: b.find_elements(By.LINK_TEXT, "Corriger l’identité"))
    assert fits_a_phone(phone)

    phone.find_element(By.LINK_TEXT, "Corriger l’identité").click()
    wait.until(lambda b: b.find_elements(By.NAME, "first_name"))
    fill(phone, first_name="Camille")
    phone.find_element(By.CSS_SELECTOR, "main form [type=submit]").click()
    # No reason: refused next to the field, nothing written.
    error = wait.until(lambda b: b.find_element(By.CSS_SELECTOR, ".errorlist"))
    assert "Indiquez le motif de cette correction." in error.text
    camille.refresh_from_db()
    assert camille.first_name == "Camile"
    assert fits_a_phone(phone)

    fill(phone, reason="Acte de naissance présenté")
    phone.find_element(By.CSS_SELECTOR, "main form [type=submit]").click()
    wait_for_text(phone, "L’identité est corrigée")
    camille.refresh_from_db()
    assert camille.first_name == "Camille"
    assert severe_console_errors(phone, refused_forms=True) == []

    phone.delete_all_cookies()
    log_in(phone, live_server, camille.user)
    phone.get(live_server.url + reverse("identity:file_accesses"))
    log = phone.find_element(By.TAG_NAME, "main").text
    assert "Identité corrigée" in log
    assert "Acte de naissance présenté" in log
    assert "Prénom : Camile → Camille" in log
    assert "Paul" in log
    assert "Roux" not in log  # first name and role only
    assert fits_a_phone(phone)
