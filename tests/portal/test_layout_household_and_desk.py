"""The pages issue 11 changed for households, products, lessons and the pool desk, in Debian's
chromium at 390 and 1280 px: nothing scrolls sideways, no button is covered, text contrast
holds (the checks of test_layout.py), with a household holding several members and a desk
showing several entitlements."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from card.actions.desk import staff_check
from identity.models import Facility, Guardianship, Person, StaffRole
from tests.browser import log_in
from tests.factories import (
    AccessPointFactory,
    CardFactory,
    EntitlementFactory,
    FacilityFactory,
    LessonCourseFactory,
    LessonProductFactory,
    PassFactory,
    PersonFactory,
    ResidentFactory,
    collection_office,
    priced_product,
    staff_user,
)
from tests.portal.test_layout import WIDTHS, check

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pages_fit(browser, live_server, paths: list[str]) -> dict:
    problems = {}
    for path in paths:
        browser.get(live_server.url + path)
        for width in WIDTHS:
            if found := check(browser, width):
                problems[f"{path} at {width} px"] = found
    return problems


def test_household_products_and_lessons_pages_fit(browser, live_server):
    parent = ResidentFactory(first_name="Camille", last_name="Zacharie-Desrosiers")
    children = [
        PersonFactory(
            household=parent.household,
            role=Person.Role.CHILD,
            first_name=name,
            last_name="Zacharie-Desrosiers",
            birth_date=date(2015 + i, 3, 1),
        )
        for i, name in enumerate(["Léa", "Tom", "Marie-Amélie"])
    ]
    for child in children:
        Guardianship.objects.create(guardian=parent, child=child)
    EntitlementFactory(holder=children[0], label="Carnet 10 entrées piscines")
    collection_office("piscines")
    priced_product(name="Aquagym enfants", min_age=6, max_age=12, regie_code="piscines")
    LessonCourseFactory(product=LessonProductFactory(min_age=6, max_age=12))
    log_in(browser, live_server, parent.user)
    paths = [
        reverse("identity:household"),
        reverse("identity:correct_member", args=[children[1].public_id]),
        reverse("identity:remove_member", args=[children[0].public_id]),  # held back: a book
        reverse("identity:remove_member", args=[children[2].public_id]),
        reverse("catalog:products"),
        reverse("pools:lessons"),
    ]
    assert pages_fit(browser, live_server, paths) == {}
    browser.get(live_server.url + reverse("identity:household"))
    assert browser.find_element(By.LINK_TEXT, "Quitter le foyer").is_displayed()
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []


def test_the_desk_with_several_entitlements_fits(browser, live_server):
    pool = FacilityFactory(name="Piscine de Cahors", kind=Facility.Kind.POOL)
    entrance = AccessPointFactory(facility=pool)
    agent = staff_user(StaffRole.Role.POOL_AGENT, facility=pool)
    card = CardFactory(holder__first_name="Marie-Amélie")
    today = timezone.localdate()
    EntitlementFactory(holder=card.holder, label="Carnet 10 entrées piscines")
    EntitlementFactory(
        holder=card.holder,
        label="Carnet 5 entrées (offert)",
        entries=5,
        valid_until=today + timedelta(days=40),
    )
    PassFactory(holder=card.holder, label="Pass annuel piscines", valid_until=date(2099, 8, 31))
    staff_check(actor=agent, access_point=entrance, credential=card.number)
    log_in(browser, live_server, agent)
    desk = reverse("card:desk", args=[entrance.public_id])
    browser.get(live_server.url + desk)
    holdings = WebDriverWait(browser, 10).until(
        lambda b: b.find_element(By.CSS_SELECTOR, "[data-holdings]")
    )
    assert holdings.get_attribute("data-holdings") == "3"
    assert "Pass annuel piscines" in holdings.text
    assert pages_fit(browser, live_server, [desk]) == {}
