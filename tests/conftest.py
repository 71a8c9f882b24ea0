import os
import shutil
import tempfile

import pytest
from django.db import connection


def _on_postgres() -> bool:
    return connection.vendor == "postgresql"


def _chromium_available() -> bool:
    return bool(shutil.which("chromium") and shutil.which("chromedriver"))


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only and browser tests run where their engine is; CI sets SESAME_REQUIRE_*
    so that a missing engine fails the run instead of skipping them quietly."""
    require_pg = os.environ.get("SESAME_REQUIRE_POSTGRES") == "1"
    require_browser = os.environ.get("SESAME_REQUIRE_BROWSER") == "1"
    for item in items:
        if "postgres" in item.keywords and not _on_postgres():
            if require_pg:
                raise pytest.UsageError(
                    "SESAME_REQUIRE_POSTGRES=1 but DATABASE_URL is not PostgreSQL"
                )
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL)"))
        if "browser" in item.keywords and not _chromium_available():
            if require_browser:
                raise pytest.UsageError("SESAME_REQUIRE_BROWSER=1 but chromium is not installed")
            item.add_marker(pytest.mark.skip(reason="needs Debian's chromium and chromedriver"))


@pytest.fixture(autouse=True)
def _territory_language(settings):
    """Each test starts in the territory's language: a request leaves the language it chose
    active in the thread, and what a later test writes outside a request would take it."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_caches():
    """allauth rate limits and used-TOTP-code marks live in the cache: isolate tests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def browser():
    """Debian's headless chromium, driven by selenium, with a profile of its own and its console
    log kept (tests assert it holds no CSP violation or script error). Selenium is imported here
    so that only the browser tests need it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="sesame-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--lang=en-GB",
        "--window-size=1280,1000",
        f"--user-data-dir={profile}",
    ]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def in_english(client):
    """Pages and messages in their English source (the site itself defaults to French): for
    tests that read texts rather than codes."""
    from django.utils import translation

    from tests.factories import reading_english

    reading_english(client)
    with translation.override("en"):
        yield
