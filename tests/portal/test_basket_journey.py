"""In a real browser (Debian's chromium, selenium): a parent adds a pool pass for their child
and a swimming lesson for themself to the basket, sees both with the header's count, and pays
once on the demo provider's page."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from payments.models import Order
from services.catalog.models import Entitlement
from services.pools.models import LessonBooking
from tests.factories import (
    LessonCourseFactory,
    collection_office,
    guardian_and_child,
    priced_product,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_two_things_in_the_basket_paid_once_on_the_demo_page(browser, live_server):
    collection_office("piscines")
    adult, child = guardian_and_child()
    product = priced_product(
        price_cents=9000, regie_code="piscines", kind="pass", validity_days=365, name="Pass"
    )
    course = LessonCourseFactory(places=2, product__regie_code="piscines")
    client = Client()
    client.force_login(adult.user)
    wait = WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,))
    browser.get(live_server.url + reverse("account_login"))  # be on the site to set a cookie
    browser.add_cookie(
        {
            "name": settings.SESSION_COOKIE_NAME,
            "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "path": "/",
        }
    )

    def basket_count():
        found = browser.find_elements(By.CSS_SELECTOR, "[data-basket-count]")
        return found[0].get_attribute("data-basket-count") if found else None

    browser.get(live_server.url + reverse("catalog:products"))
    browser.find_element(
        By.CSS_SELECTOR,
        f"#products-{child.public_id} tr[data-product='{product.code}'] button[type=submit]",
    ).click()
    wait.until(lambda b: "/mon-espace/paiements/commande/" in b.current_url)
    assert basket_count() == "1"

    browser.get(live_server.url + reverse("pools:lessons"))
    browser.find_element(
        By.CSS_SELECTOR,
        f"#course-{course.public_id} form:has(input[value='{adult.public_id}']) button",
    ).click()
    wait.until(lambda b: basket_count() == "2")
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr[data-line]")) == 2

    browser.find_element(By.CSS_SELECTOR, "main form:not([action]) button[type=submit]").click()
    wait.until(lambda b: "/paiement/demo/" in b.current_url)
    browser.find_element(By.CSS_SELECTOR, "button[name=outcome][value=pay]").click()
    wait.until(lambda b: "/mon-espace/paiements/paiement/" in b.current_url)

    order = Order.objects.get()
    assert order.status == "paid"
    assert order.total_cents == 9000 + 6000
    assert basket_count() is None  # the basket is paid: no link any more
    assert Entitlement.objects.filter(holder=child, kind="pass").count() == 1
    assert LessonBooking.objects.get().status == "confirmed"
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []  # no CSP violation, no script error
