"""Journeys in a real browser (Debian's chromium, driven by selenium): what a resident does,
with JavaScript, htmx and the Content-Security-Policy all in play."""

import re

import pytest
from django.core import mail
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import fill
from tests.factories import CommuneFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_parent_signs_up_completes_the_profile_and_adds_a_child(browser, live_server):
    CommuneFactory(name="Cahors", postcode="46000")
    # htmx swaps elements under our feet: a stale reference just means "look again".
    wait = WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,))
    browser.get(live_server.url + "/accounts/signup/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    fill(
        browser,
        first_name="Camille",
        last_name="Martin",
        email="camille@example.org",
        password1="Une-phrase-longue-2026",
        password2="Une-phrase-longue-2026",
    )
    browser.find_element(By.CSS_SELECTOR, "main form [type=submit]").click()
    wait.until(lambda b: len(mail.outbox) == 1)

    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    browser.get(link)
    browser.find_element(By.CSS_SELECTOR, "main form [type=submit]").click()

    wait.until(ec.url_contains("/mon-espace/bienvenue/"))
    fill(
        browser,
        first_name="Camille",
        last_name="Martin",
        birth_date="1986-04-12",
        line1="12 rue du Château du Roi",
        postcode="46000",
        commune="Cahors (46000)",
        moved_in="2019-09-01",
    )
    browser.find_element(By.CSS_SELECTOR, "main form [type=submit]").click()
    # Not url_contains: the onboarding page's own address contains "/mon-espace/" too.
    wait.until(lambda b: b.current_url.endswith("/mon-espace/"))
    assert "Camille" in browser.find_element(By.TAG_NAME, "h1").text

    browser.get(live_server.url + "/mon-espace/foyer/")
    browser.find_element(By.CSS_SELECTOR, "input[name=role][value=child]").click()
    fill(browser, first_name="Tom", last_name="Martin", birth_date="2019-02-08")
    url_before = browser.current_url
    browser.find_element(By.CSS_SELECTOR, "#members form [type=submit]").click()
    # htmx swaps the members table in place: no page load, Tom appears.
    wait.until(lambda b: "Tom" in b.find_element(By.ID, "members").text)
    assert browser.current_url == url_before
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []  # no CSP violation, no script error
