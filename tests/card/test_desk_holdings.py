"""After a tap, the pool desk shows what the person can still use at that facility across all
their entitlements (entries left in each book, passes with their end), not only the one the
tap used; a town-hall desk, which only identifies people, shows none."""

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone

from identity.models import Facility, StaffRole
from portal.templatetags.sesame import day
from tests.card.test_desk import HX, desk_url, make_card
from tests.factories import (
    AccessPointFactory,
    EntitlementFactory,
    FacilityFactory,
    PassFactory,
    staff_user,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


def holdings_of(html: str) -> list[str]:
    """The lines of the 'what they hold here' list, whitespace collapsed."""
    block = re.search(r"<div class=\"desk-holdings\"[^>]*>(.*?)</div>", html, re.S)
    assert block is not None, "no holdings block"
    return [
        " ".join(re.sub(r"<[^>]+>", "", li).split())
        for li in re.findall(r"<li>(.*?)</li>", block.group(1), re.S)
    ]


@pytest.fixture
def pool():
    return FacilityFactory(name="Piscine Alpha", kind=Facility.Kind.POOL)


@pytest.fixture
def desk_client(client, pool):
    client.force_login(staff_user(StaffRole.Role.POOL_AGENT, facility=pool))
    return client


def test_the_desk_lists_every_book_and_pass_usable_here_after_an_entry(desk_client, pool):
    entrance = AccessPointFactory(facility=pool)
    card = make_card(n=11)
    today = timezone.localdate()
    EntitlementFactory(
        holder=card.holder, label="Carnet 10", valid_until=today + timedelta(days=20)
    )
    EntitlementFactory(
        holder=card.holder, label="Carnet 5", entries=5, valid_until=today + timedelta(days=200)
    )
    PassFactory(holder=card.holder, label="Pass été", valid_until=date(2099, 8, 31))
    # Elsewhere or spent: not shown.
    EntitlementFactory(holder=card.holder, label="Carnet vide", entries_left=0)
    EntitlementFactory(holder=card.holder, label="Adhésion", facility_kind=Facility.Kind.LIBRARY)
    other_pool = FacilityFactory(kind=Facility.Kind.POOL)
    PassFactory(holder=card.holder, label="Cours ailleurs", kind="booking", facility=other_pool)

    page = desk_client.post(
        desk_url(entrance, "desk_check"), {"credential": card.number}, headers=HX
    )
    html = page.content.decode()
    # The pass applies first: no entry is used, and both books keep their entries.
    assert holdings_of(html) == [
        f"Pass été: valid until {day(date(2099, 8, 31))}",
        f"Carnet 10: 10 entries left, until {day(today + timedelta(days=20))}",
        f"Carnet 5: 5 entries left, until {day(today + timedelta(days=200))}",
    ]


def test_the_book_just_used_shows_what_is_left_beside_the_others(desk_client, pool):
    entrance = AccessPointFactory(facility=pool)
    card = make_card(n=12)
    first = EntitlementFactory(
        holder=card.holder, label="Carnet A", valid_until=timezone.localdate() + timedelta(days=5)
    )
    EntitlementFactory(holder=card.holder, label="Carnet B", entries=5)
    html = desk_client.post(
        desk_url(entrance, "desk_check"), {"credential": card.number}, headers=HX
    ).content.decode()
    first.refresh_from_db()
    assert first.entries_left == 9
    lines = holdings_of(html)
    assert lines[0].startswith("Carnet A: 9 entries left")
    assert lines[1].startswith("Carnet B: 5 entries left")


def test_a_refused_person_is_told_they_hold_nothing_here(desk_client, pool):
    entrance = AccessPointFactory(facility=pool)
    card = make_card(n=13)
    html = desk_client.post(
        desk_url(entrance, "desk_check"), {"credential": card.number}, headers=HX
    ).content.decode()
    assert 'data-holdings="0"' in html
    assert "holds nothing more here" in html


def test_a_town_hall_desk_shows_no_holdings(client):
    hall = FacilityFactory(kind=Facility.Kind.TOWN_HALL)
    counter = AccessPointFactory(facility=hall, kind="desk", name="Guichet")
    client.force_login(staff_user(StaffRole.Role.CLERK))
    card = make_card(n=14)
    EntitlementFactory(holder=card.holder)
    html = client.post(
        desk_url(counter, "desk_check"), {"credential": card.number}, headers=HX
    ).content.decode()
    assert 'data-decision="granted"' in html
    assert "desk-holdings" not in html
