"""A pool agent's desk shows how many people are inside the pool now, updated from every gate."""

import pytest
from django.urls import reverse
from django.utils import timezone

from card.actions.taps import process_tap
from identity.models import StaffRole
from services.catalog.models import AccessPoint
from tests.factories import (
    AccessPointFactory,
    CardFactory,
    FacilityAccessRulesFactory,
    PassFactory,
    reader_with_token,
    reading_english,
    staff_user,
    sun_url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool():
    entrance = AccessPointFactory(kind=AccessPoint.Kind.ENTRANCE)
    desk = AccessPointFactory(
        facility=entrance.facility, name="Accueil", kind=AccessPoint.Kind.DESK
    )
    FacilityAccessRulesFactory(facility=entrance.facility, max_occupancy=120)
    return entrance, desk


def enter(entrance):
    reader, _token = reader_with_token(access_point=entrance)
    card = CardFactory()
    PassFactory(holder=card.holder)
    answer = process_tap(
        reader=reader,
        credential=sun_url(card, 1),
        client_tap_id=f"t{card.pk}",
        reader_time=timezone.now(),
    )
    assert answer["granted"], answer


def agent_client(client, facility):
    client.force_login(staff_user(StaffRole.Role.POOL_AGENT, facility=facility))
    return reading_english(client)


def test_the_desk_shows_who_is_inside_and_the_count_follows_the_gates(client, pool):
    entrance, desk = pool
    agent = agent_client(client, entrance.facility)
    page = agent.get(reverse("card:desk", args=[desk.public_id])).content.decode()
    assert "People inside now: <strong>0</strong> of 120" in page
    enter(entrance)
    enter(entrance)
    fragment = agent.get(reverse("card:desk_occupancy", args=[desk.public_id])).content.decode()
    assert "People inside now: <strong>2</strong> of 120" in fragment


def test_a_facility_that_counts_nobody_shows_no_count(client):
    desk = AccessPointFactory(kind=AccessPoint.Kind.DESK)
    agent = agent_client(client, desk.facility)
    page = agent.get(reverse("card:desk", args=[desk.public_id])).content.decode()
    assert "People inside now" not in page


def test_another_pool_s_count_is_not_shown(client, pool):
    _entrance, desk = pool
    agent = agent_client(client, AccessPointFactory().facility)
    assert agent.get(reverse("card:desk_occupancy", args=[desk.public_id])).status_code == 403
