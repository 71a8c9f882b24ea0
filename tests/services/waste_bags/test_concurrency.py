"""Two town-hall desks serving the same household at once, one roll left: only one hands it
out, on PostgreSQL. As in pretix, the first test shows the race does happen with the
household's row lock switched off (both desks have read what was handed out before either
hands out); the second, with the desks lined up the same way, that the lock prevents it."""

import pytest
from django.utils import timezone

from identity.errors import DomainError
from services.catalog.models import AccessPoint
from services.waste_bags import actions, queries
from services.waste_bags.models import BagDistribution
from tests.concurrency import at_once, line_up
from tests.factories import AccessPointFactory
from tests.services.waste_bags.factories import clerk_at, household_of, quota_table, town_hall_desk

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("in_english"),
]


@pytest.fixture
def two_desks_one_roll_left():
    """Two desks of one town hall, their clerks, and two members of a couple (3 rolls a year)
    who have had 2 already."""
    quota_table(timezone.localdate().year)
    first = town_hall_desk()
    second = AccessPointFactory(
        facility=first.facility, name="Guichet 2", kind=AccessPoint.Kind.DESK
    )
    couple = household_of(2)
    actions.hand_out_bags(actor=clerk_at(first), person=couple[0], access_point=first, quantity=2)
    return [(first, clerk_at(first), couple[0]), (second, clerk_at(second), couple[1])]


def both_desks(desks) -> list:
    """Each desk hands out one roll; the answer is the confirmation or the refusal."""

    def hand_out(point, clerk, person):
        try:
            return actions.hand_out_bags(actor=clerk, person=person, access_point=point, quantity=1)
        except DomainError as error:
            return error

    return at_once(*(lambda desk=desk: hand_out(*desk) for desk in desks))


def test_without_the_lock_two_desks_hand_out_the_last_roll(two_desks_one_roll_left, monkeypatch):
    line_up(monkeypatch, queries, "handed_out", lock=False)  # both read "2 handed out, 1 left"
    answers = both_desks(two_desks_one_roll_left)
    assert all(isinstance(answer, str) for answer in answers)  # the race: both handed it out
    assert sum(BagDistribution.objects.values_list("quantity", flat=True)) == 4  # quota: 3


def test_the_last_roll_goes_to_one_desk_only(two_desks_one_roll_left, monkeypatch):
    line_up(monkeypatch, queries, "handed_out", lock=True)
    answers = both_desks(two_desks_one_roll_left)
    handed = [answer for answer in answers if isinstance(answer, str)]
    refused = [answer for answer in answers if isinstance(answer, DomainError)]
    assert len(handed) == 1
    assert len(refused) == 1
    assert refused[0].code == "quota_exceeded"
    assert sum(BagDistribution.objects.values_list("quantity", flat=True)) == 3
