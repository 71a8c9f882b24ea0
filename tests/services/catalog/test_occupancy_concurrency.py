"""Two entrances of the same pool with one place left never both let someone in, on
PostgreSQL. As in pretix, the first test shows the race does happen when taking a place is a
naive read-then-write; the second, with the gates lined up the same way, that the real one (a
conditional upsert holding the counter's row lock until commit) prevents it."""

from datetime import date

import pytest
from django.db import transaction
from django.utils import timezone

from services.catalog import actions
from services.catalog.models import AccessPoint, FacilityOccupancy
from tests.concurrency import at_once, line_up
from tests.factories import AccessPointFactory, FacilityAccessRulesFactory, PassFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PLACES = 3


@pytest.fixture
def two_entrances_one_place_left():
    """Two gates of one pool, PLACES - 1 people already inside today, and two swimmers."""
    first = AccessPointFactory()
    second = AccessPointFactory(facility=first.facility, kind=AccessPoint.Kind.ENTRANCE)
    FacilityAccessRulesFactory(facility=first.facility, max_occupancy=PLACES)
    FacilityOccupancy.objects.create(
        facility=first.facility, day=timezone.localdate(), inside=PLACES - 1
    )
    swimmers = [PassFactory().holder_id for _ in range(2)]
    return (first, second), swimmers


def naive_take_a_place(*, facility_id: int, day: date, limit: int) -> bool:
    """The bug the conditional upsert avoids: read the count, compare in Python, then write."""
    inside = FacilityOccupancy.objects.get(facility_id=facility_id).inside
    if inside >= limit:
        return False
    FacilityOccupancy.objects.filter(facility_id=facility_id).update(inside=inside + 1)
    return True


def both_gates(gates, swimmers) -> list:
    return at_once(
        *(
            lambda gate=gate, holder=holder: actions.decide(
                holder_id=holder, access_point=gate, at=timezone.now()
            )
            for gate, holder in zip(gates, swimmers, strict=True)
        )
    )


def test_without_the_lock_two_gates_give_away_the_last_place(
    two_entrances_one_place_left, monkeypatch
):
    gates, swimmers = two_entrances_one_place_left
    # Neither gate commits before the other has read the count: the second writes over the
    # first's place with what it read.
    line_up(monkeypatch, actions, "_take_a_place", lock=False, unlocked=naive_take_a_place)
    answers = both_gates(gates, swimmers)
    assert [a.granted for a in answers] == [True, True]  # the race: PLACES + 1 people inside
    assert FacilityOccupancy.objects.get().inside == PLACES  # and the count lost one of them


def test_the_last_place_goes_to_one_gate_only(two_entrances_one_place_left, monkeypatch):
    gates, swimmers = two_entrances_one_place_left
    line_up(monkeypatch, actions, "_take_a_place", lock=True)
    for _round in range(5):
        answers = both_gates(gates, swimmers)
        assert sorted(a.reason for a in answers) == ["capacity_reached", "granted"]
        assert FacilityOccupancy.objects.get().inside == PLACES
        # The one who got in goes out: one place left again for the next round.
        inside = swimmers[[a.granted for a in answers].index(True)]
        exit_ = AccessPointFactory(facility=gates[0].facility, kind=AccessPoint.Kind.EXIT)
        with transaction.atomic():
            actions.decide(holder_id=inside, access_point=exit_, at=timezone.now())
        assert FacilityOccupancy.objects.get().inside == PLACES - 1
