"""The payments pages the demo does not reach, in Debian's chromium at a desk's and a phone's
width (the checks of tests/portal/test_layout.py): the régisseur's payment of an entry book
partly used (its warning and refund form) and the resident's paid order with a refund."""

import pytest
from selenium.webdriver.common.by import By

from tests.browser import log_in
from tests.payments.factories import key, regisseur
from tests.portal.test_layout import WIDTHS, check

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_used_entry_book_and_its_order_fit_a_phone_and_a_desk(
    browser,
    live_server,
    book_with_seven_entries_used,
    django_capture_on_commit_callbacks,
):
    from django.urls import reverse

    from payments.actions.refunds import refund_payment

    payment = book_with_seven_entries_used
    officer = regisseur()
    with django_capture_on_commit_callbacks(execute=True):
        refund_payment(
            actor=officer,
            payment=payment,
            amount_cents=500,
            destination="card",
            reason="Bassin fermé deux jours",
            idempotency_key=key(),
        )
    problems = {}
    log_in(browser, live_server, officer)
    browser.get(live_server.url + reverse("payments:staff_payment", args=[payment.public_id]))
    warning = browser.find_element(By.CSS_SELECTOR, "[data-usage]").text
    assert "7 des 10 entrées" in warning
    for width in WIDTHS:
        problems[f"payment at {width} px"] = check(browser, width)
    browser.delete_all_cookies()
    log_in(browser, live_server, payment.order.buyer)
    browser.get(live_server.url + reverse("payments:checkout", args=[payment.order.public_id]))
    assert "Bassin fermé deux jours" in browser.find_element(By.CSS_SELECTOR, "[data-refund]").text
    for width in WIDTHS:
        problems[f"order at {width} px"] = check(browser, width)
    assert {page: found for page, found in problems.items() if found} == {}
