"""The staff desk offers the services registered for its facility (waste-sorting bags at a
town hall) to the holder of the card just checked there, and to no one else."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from card.actions.desk import staff_check
from card.models import Card, Tap
from identity.models import AuditEntry, Facility, StaffRole
from services.catalog.models import AccessPoint
from services.waste_bags.models import BagDistribution
from services.waste_bags.queries import bags_left
from tests.factories import (
    AccessPointFactory,
    CardFactory,
    FacilityFactory,
    post_tap,
    reader_with_token,
    staff_user,
    sun_url,
)
from tests.services.waste_bags.factories import clerk_at, household_of, quota_table, town_hall_desk

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

HX = {"HX-Request": "true"}
SUMMARY = "Waste-sorting bags"


@pytest.fixture
def desk():
    quota_table(timezone.localdate().year)
    return town_hall_desk()


@pytest.fixture
def clerk(desk):
    return clerk_at(desk)


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk)
    return client


@pytest.fixture
def martins():
    """Four people, 4 rolls a year; the second one (a child) has a card."""
    people = household_of(4)
    CardFactory(holder=people[1])
    return people


def card_of(person) -> Card:
    return Card.objects.get(holder=person)


def check(client, point: AccessPoint, card: Card):
    url = reverse("card:desk_check", args=[point.public_id])
    return client.post(url, {"credential": card.number}, headers=HX)


def hand_out(client, point: AccessPoint, tap_id, quantity, *, htmx=True, **extra):
    url = reverse("card:desk_service", args=[point.public_id, "waste_bags"])
    return client.post(
        url, {"tap": tap_id, "quantity": quantity, **extra}, headers=HX if htmx else {}
    )


def shown_tap(html: str) -> str:
    return re.search(r'name="tap" value="(\d+)"', html).group(1)


def test_the_desk_shows_the_bags_after_a_check_at_a_town_hall(clerk_client, desk, martins):
    page = clerk_client.get(reverse("card:desk", args=[desk.public_id])).content.decode()
    assert SUMMARY not in page  # nothing checked yet
    answer = check(clerk_client, desk, card_of(martins[1])).content.decode()
    assert "Waste-sorting bags: 4 rolls left this year (of 4)." in answer
    assert 'data-desk-service="waste_bags"' in answer
    # The page itself (a reload) shows it too, for the tap just made.
    page = clerk_client.get(reverse("card:desk", args=[desk.public_id])).content.decode()
    assert "4 rolls left this year" in page


def test_a_pool_desk_shows_no_bags(client, martins):
    quota_table(timezone.localdate().year)
    pool = FacilityFactory(kind=Facility.Kind.POOL)
    pool_desk = AccessPointFactory(facility=pool, kind=AccessPoint.Kind.DESK)
    client.force_login(staff_user(StaffRole.Role.POOL_AGENT, facility=pool))
    answer = check(client, pool_desk, card_of(martins[1]))
    assert answer.status_code == 200
    assert SUMMARY not in answer.content.decode()
    tap = Tap.objects.get()
    response = hand_out(client, pool_desk, tap.pk, 1)
    assert response.status_code == 404
    assert not BagDistribution.objects.exists()


def test_the_clerk_hands_out_bags_to_the_household_of_the_card_checked(
    clerk_client, clerk, desk, martins
):
    answer = check(clerk_client, desk, card_of(martins[1])).content.decode()
    response = hand_out(clerk_client, desk, shown_tap(answer), 3)
    html = response.content.decode()
    assert response.status_code == 200
    assert "3 rolls handed out; 1 left this year." in html
    assert "Waste-sorting bags: 1 roll left this year (of 4)." in html
    row = BagDistribution.objects.get()
    assert (row.person, row.household, row.quantity, row.staff) == (
        martins[1],
        martins[0].household,
        3,
        clerk,
    )
    assert AuditEntry.objects.filter(
        action="waste_bags.handed_out", person=martins[1], channel="counter"
    ).exists()
    # Over-distribution: refused next to the field, nothing written.
    refused = hand_out(clerk_client, desk, shown_tap(html), 2).content.decode()
    assert "Only 1 roll is left for this household this year." in refused
    assert 'aria-invalid="true"' in refused
    assert BagDistribution.objects.count() == 1


def test_a_plain_form_gets_the_desk_back_with_a_message(clerk_client, desk, martins):
    answer = check(clerk_client, desk, card_of(martins[1])).content.decode()
    response = hand_out(clerk_client, desk, shown_tap(answer), 1, htmx=False, follow=False)
    assert response.status_code == 302
    page = clerk_client.get(response.url).content.decode()
    assert "1 roll handed out; 3 left this year." in page
    for bad in ["0", "-2", "deux", "", "²"]:
        hand_out(clerk_client, desk, shown_tap(answer), bad)
    assert bags_left(martins[0].household, timezone.localdate().year) == 3


def test_a_tap_from_the_desk_reader_serves_its_holder(clerk_client, desk, martins, client):
    from card.models import Reader

    card = card_of(martins[1])
    _reader, token = reader_with_token(access_point=desk, kind=Reader.Kind.DESK)
    assert post_tap(client, token, credential=sun_url(card, 1)).status_code == 200
    tap = Tap.objects.get()
    assert tap.holder == martins[1]
    latest = reverse("card:desk_latest", args=[desk.public_id])
    assert "4 rolls left" in clerk_client.get(latest, headers=HX).content.decode()
    assert hand_out(clerk_client, desk, tap.pk, 2).status_code == 200
    assert bags_left(martins[0].household, timezone.localdate().year) == 2


def test_no_hand_out_for_a_person_not_just_checked_here(clerk_client, clerk, desk, martins):
    year = timezone.localdate().year
    card = card_of(martins[1])
    # A check by another clerk at this desk, and one by this clerk at another town hall.
    colleague = clerk_at(desk)
    staff_check(actor=colleague, access_point=desk, credential=card.number)
    by_colleague = Tap.objects.get()
    other_desk = town_hall_desk()
    StaffRole.objects.create(user=clerk, role=StaffRole.Role.CLERK, facility=other_desk.facility)
    clerk.__dict__.pop("_sesame_active_roles", None)
    staff_check(actor=clerk, access_point=other_desk, credential=card.number)
    elsewhere = Tap.objects.exclude(pk=by_colleague.pk).get()
    # A check by this clerk here, too long ago.
    with time_machine.travel(timezone.now() - timedelta(minutes=6)):
        staff_check(actor=clerk, access_point=desk, credential=card.number)
    old = Tap.objects.exclude(pk__in=[by_colleague.pk, elsewhere.pk]).get()
    for tap_id in [by_colleague.pk, elsewhere.pk, old.pk, "", "abc", 10**9]:
        response = hand_out(clerk_client, desk, tap_id, 1)
        assert response.status_code == 200
        assert "Check the card again" in response.content.decode()
    # A person named in the form is not a tap: ignored.
    hand_out(clerk_client, desk, "", 1, person=martins[0].public_id)
    assert not BagDistribution.objects.exists()
    assert bags_left(martins[0].household, year) == 4


def test_no_hand_out_after_a_refused_card(clerk_client, desk, martins):
    card = card_of(martins[1])
    Card.objects.filter(pk=card.pk).update(status=Card.Status.SUSPENDED)
    card.refresh_from_db()
    answer = check(clerk_client, desk, card).content.decode()
    assert 'data-decision="refused"' in answer
    assert SUMMARY not in answer
    response = hand_out(clerk_client, desk, Tap.objects.get().pk, 1)
    assert "Check the card again" in response.content.decode()
    assert not BagDistribution.objects.exists()


def test_a_pool_agent_cannot_use_the_town_hall_desk(client, desk, martins):
    client.force_login(staff_user(StaffRole.Role.POOL_AGENT, facility=FacilityFactory()))
    assert hand_out(client, desk, 1, 1).status_code == 403
    assert not BagDistribution.objects.exists()
