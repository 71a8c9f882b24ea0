"""Helpers of the browser journeys (Debian's chromium driven by selenium): sign a user in and
fill forms as a person would. Selenium is imported by the journeys only."""

from django.conf import settings
from django.test import Client
from django.urls import reverse
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait


def wait_for_text(browser, text: str, timeout: float = 15) -> None:
    """A click posts and the next page loads: wait for its text, not the old page's. While the
    page is being replaced its body goes stale, or chromium answers that the node no longer
    belongs to the document: both are asked again until the new page comes (a page that never
    shows the text still fails, by timeout)."""

    def shown(browser) -> bool:
        try:
            return text in browser.find_element(By.TAG_NAME, "body").text
        except StaleElementReferenceException:
            return False
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return False
            raise

    WebDriverWait(browser, timeout).until(shown)


def log_in(browser, live_server, user) -> None:
    """A session made by Django's test client, handed to the browser as its cookie (the login
    form and its second-factor step are covered by the account tests)."""
    client = Client()
    client.force_login(user)
    browser.get(live_server.url + reverse("account_login"))  # be on the site to set a cookie
    browser.add_cookie(
        {
            "name": settings.SESSION_COOKIE_NAME,
            "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "path": "/",
        }
    )


def fill(browser, **fields) -> None:
    for name, value in fields.items():
        element = browser.find_element(By.NAME, name)
        if element.tag_name == "select":
            Select(element).select_by_visible_text(value)
        elif element.get_attribute("type") == "date":
            # Date inputs take keyboard input in the browser's locale; set the ISO value.
            browser.execute_script("arguments[0].value = arguments[1]", element, value)
        else:
            element.clear()
            element.send_keys(value)


def severe_console_errors(browser, *, refused_forms: bool = False) -> list[dict]:
    """CSP violations and script errors the page logged. With `refused_forms`, the 400 of a form
    page refusing bad input (which chromium logs too) is expected, not an error."""
    return [
        entry
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE"
        and not (
            refused_forms and entry["source"] == "network" and "status of 400" in entry["message"]
        )
    ]


def fits_a_phone(browser) -> bool:
    """Nothing in the page's main content is wider than the window (no sideways scrolling)."""
    return browser.execute_script(
        "const main = document.querySelector('main');"
        "return main.scrollWidth <= window.innerWidth"
        " && document.documentElement.scrollWidth <= window.innerWidth;"
    )
