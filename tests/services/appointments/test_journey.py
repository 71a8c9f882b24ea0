"""In a real browser (Debian's chromium, selenium), on a phone's width: a parent books an
appointment for their child from Mon espace, sees it with what to bring, and cancels it; then
a clerk books for a resident on the phone from the desk's page and marks them arrived."""

from datetime import date, time

import pytest
from django.urls import reverse
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from identity.models import StaffRole
from services.appointments.models import Appointment, Channel
from tests.browser import fill, fits_a_phone, log_in, severe_console_errors
from tests.factories import ResidentFactory, guardian_and_child, staff_user
from tests.services.appointments.factories import DeskFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALL_DAY = [(weekday, time(0), time(23, 45)) for weekday in range(7)]


def test_a_parent_books_and_cancels_on_a_phone(browser, live_server):
    desk = DeskFactory(
        name="État civil",
        what_to_bring="Le livret de famille.",
        hours=ALL_DAY,
        min_notice_minutes=0,
        cancel_notice_minutes=0,
    )
    parent, child = guardian_and_child()
    browser.set_window_size(390, 844)
    wait = WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,))
    log_in(browser, live_server, parent.user)

    browser.get(live_server.url + reverse("portal:home"))
    browser.find_element(By.CSS_SELECTOR, f"a[href='{reverse('appointments:desks')}']").click()
    wait.until(lambda b: b.current_url.endswith(reverse("appointments:desks")))
    assert "Le livret de famille." in browser.page_source
    browser.find_element(
        By.CSS_SELECTOR, f"a[href='{reverse('appointments:slots', args=[desk.public_id])}']"
    ).click()
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "label.slot"))
    assert fits_a_phone(browser)
    fill(browser, person=f"{child.first_name} {child.last_name}")
    browser.find_element(By.CSS_SELECTOR, "label.slot").click()
    browser.find_element(By.CSS_SELECTOR, "form.slot-form button[type=submit]").click()

    wait.until(lambda b: Appointment.objects.filter(person=child).exists())
    appointment = Appointment.objects.get(person=child)
    wait.until(lambda b: appointment.public_id in b.current_url)
    assert "Le livret de famille." in browser.page_source
    assert fits_a_phone(browser)
    browser.find_element(By.CSS_SELECTOR, "form[action$='/annuler/'] button").click()
    wait.until(lambda b: b.current_url.endswith(reverse("appointments:desks")))
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert severe_console_errors(browser) == []


def test_a_clerk_books_for_a_caller_and_marks_them_arrived(browser, live_server):
    desk = DeskFactory(name="Passeports", hours=ALL_DAY)
    clerk = staff_user(StaffRole.Role.CLERK, facility=desk.facility)
    caller = ResidentFactory(last_name="Aubert", birth_date=date(1968, 4, 1))
    wait = WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,))
    log_in(browser, live_server, clerk)

    browser.get(live_server.url + reverse("appointments:staff_desks"))
    browser.find_element(
        By.CSS_SELECTOR, f"a[href='{reverse('appointments:on_behalf', args=[desk.public_id])}']"
    ).click()
    wait.until(lambda b: b.find_elements(By.NAME, "last_name"))
    fill(browser, last_name="aubert", birth_date="1968-04-01")
    browser.find_element(By.CSS_SELECTOR, "input[name=channel][value=phone]").click()
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "label.slot"))
    browser.find_element(By.CSS_SELECTOR, "label.slot").click()
    browser.find_element(By.CSS_SELECTOR, "form.slot-form button[type=submit]").click()

    wait.until(lambda b: Appointment.objects.filter(person=caller).exists())
    appointment = Appointment.objects.get(person=caller)
    assert appointment.channel == Channel.PHONE
    wait.until(
        lambda b: b.find_elements(By.CSS_SELECTOR, f"[data-appointment='{appointment.public_id}']")
    )
    assert f"{caller.first_name} {caller.last_name}" in browser.page_source
    entry = browser.find_element(By.CSS_SELECTOR, f"[data-appointment='{appointment.public_id}']")
    entry.find_element(By.CSS_SELECTOR, "input[name=arrived][value='1'] ~ button").click()
    wait.until(
        lambda b: Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.ARRIVED
    )
    assert severe_console_errors(browser) == []
