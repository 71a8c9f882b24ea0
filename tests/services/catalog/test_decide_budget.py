"""What a granted tap costs in SQL once the catalogue enforces hours and limits (the reader's
budget test is tests/card/test_tap_budget.py). Opening hours, closures and school holidays are
read from an in-process cache: a facility without a maximum occupancy nor anti-passback stays
within the four statements of a tap. Counting people in costs two more at most: the place
taken and the presence recorded."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from services.catalog.models import AccessPoint
from tests.factories import (
    AccessPointFactory,
    CardFactory,
    EntitlementFactory,
    FacilityAccessRulesFactory,
    FacilityClosureFactory,
    OpeningHoursFactory,
    PassFactory,
    SchoolHolidayFactory,
    post_tap,
    reader_with_token,
    sun_url,
)

pytestmark = pytest.mark.django_db(transaction=True)

WITHOUT_LIMITS = 4  # the tap's own budget, unchanged
WITH_LIMITS = 6  # + taking a place and recording the presence
EXIT_WITH_LIMITS = 4  # claim, free the place, close the presence, log the tap
FRAMING = {"BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"}
MONDAY_LUNCH = datetime(2026, 3, 23, 12, 30, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture(autouse=True)
def _monday_lunchtime():
    with time_machine.travel(MONDAY_LUNCH, tick=True):
        yield


def pool(*, limits: bool) -> AccessPoint:
    """A pool entrance open now, with an old closure and a holiday schedule to read."""
    entrance = AccessPointFactory()
    facility = entrance.facility
    OpeningHoursFactory(facility=facility, weekday=0, opens=time(12), closes=time(13, 45))
    OpeningHoursFactory(facility=facility, weekday=0, schedule="school_holidays")
    FacilityClosureFactory(facility=facility, starts_at=MONDAY_LUNCH - timedelta(days=3))
    SchoolHolidayFactory()
    if limits:
        FacilityAccessRulesFactory(facility=facility, max_occupancy=250, anti_passback_minutes=240)
    return entrance


def statements_of_a_tap(client, token: str, card) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = post_tap(client, token, credential=sun_url(card, 1))
    assert response.json()["granted"] is True, response.json()
    return [q["sql"] for q in queries.captured_queries if q["sql"].split()[0] not in FRAMING]


def warm(client, token: str, entitlement) -> None:
    """Someone else's tap first: the reader's cache and heartbeat, the facility's rules."""
    card = CardFactory()
    entitlement(holder=card.holder)
    assert post_tap(client, token, credential=sun_url(card, 1)).json()["granted"]


@pytest.mark.parametrize("entitlement", [EntitlementFactory, PassFactory], ids=["book", "pass"])
def test_hours_and_closures_cost_no_statement(client, entitlement):
    _reader, token = reader_with_token(access_point=pool(limits=False))
    warm(client, token, entitlement)
    card = CardFactory()
    entitlement(holder=card.holder)
    statements = statements_of_a_tap(client, token, card)
    assert len(statements) <= WITHOUT_LIMITS, "\n".join(statements)


@pytest.mark.parametrize(
    ("entitlement", "expected"), [(EntitlementFactory, 6), (PassFactory, 5)], ids=["book", "pass"]
)
def test_counting_people_in_costs_two_statements_more(client, entitlement, expected):
    _reader, token = reader_with_token(access_point=pool(limits=True))
    warm(client, token, entitlement)
    card = CardFactory()
    entitlement(holder=card.holder)
    statements = statements_of_a_tap(client, token, card)
    assert len(statements) <= WITH_LIMITS, "\n".join(statements)
    assert len(statements) == expected, "\n".join(statements)  # what docs/cards.md says


def test_an_exit_with_limits_stays_within_the_tap_budget(client):
    entrance = pool(limits=True)
    exit_ = AccessPointFactory(facility=entrance.facility, kind=AccessPoint.Kind.EXIT)
    _reader, entrance_token = reader_with_token(access_point=entrance)
    _reader, exit_token = reader_with_token(access_point=exit_)
    warm(client, exit_token, PassFactory)
    card = CardFactory()
    PassFactory(holder=card.holder)
    assert post_tap(client, entrance_token, credential=sun_url(card, 1)).json()["granted"]
    with CaptureQueriesContext(connection) as queries:
        response = post_tap(client, exit_token, credential=sun_url(card, 2))
    assert response.json()["reason"] == "exit"
    statements = [q["sql"] for q in queries.captured_queries if q["sql"].split()[0] not in FRAMING]
    assert len(statements) <= EXIT_WITH_LIMITS, "\n".join(statements)
