"""Waste-sorting bags: a yearly quota of rolls per household by its size, handed out at a
town-hall desk to any member; over-distribution is refused and writes nothing."""

from datetime import date

import pytest
from django.utils import timezone

from identity.errors import DomainError, Forbidden
from identity.models import AuditEntry, StaffRole
from services.catalog.models import AccessPoint
from services.catalog.registry import desk_actions_for
from services.waste_bags.actions import hand_out_bags
from services.waste_bags.models import BagDistribution
from services.waste_bags.queries import bags_left, desk_summary, quota_for
from tests.factories import AccessPointFactory, staff_user
from tests.services.waste_bags.factories import clerk_at, household_of, quota_table, town_hall_desk

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

YEAR = timezone.localdate().year


@pytest.fixture
def desk():
    quota_table(YEAR)
    return town_hall_desk()


@pytest.fixture
def clerk(desk):
    return clerk_at(desk)


@pytest.mark.parametrize(("size", "rolls"), [(1, 2), (2, 3), (3, 4), (4, 4), (5, 5), (8, 5)])
def test_the_quota_depends_on_the_household_size(size, rolls):
    quota_table(YEAR)
    household = household_of(size)[0].household
    assert quota_for(household, YEAR) == rolls
    assert bags_left(household, YEAR) == rolls


def test_no_table_for_the_year_means_no_quota():
    quota_table(YEAR)
    household = household_of(2)[0].household
    assert quota_for(household, YEAR + 1) is None
    assert bags_left(household, YEAR + 1) == 0


def test_hand_out_and_see_what_is_left(desk, clerk):
    martins = household_of(4)
    message = hand_out_bags(actor=clerk, person=martins[0], access_point=desk, quantity=3)
    assert "3 rolls handed out; 1 left" in message
    assert bags_left(martins[0].household, YEAR) == 1
    row = BagDistribution.objects.get()
    assert (row.household, row.person, row.year, row.quantity, row.staff, row.facility) == (
        martins[0].household,
        martins[0],
        YEAR,
        3,
        clerk,
        desk.facility,
    )
    assert "1 roll left this year (of 4)" in desk_summary(martins[2], timezone.localdate())


def test_any_member_of_the_household_takes_from_the_same_quota(desk, clerk):
    martins = household_of(4)
    for person in martins:
        hand_out_bags(actor=clerk, person=person, access_point=desk, quantity=1)
    assert bags_left(martins[0].household, YEAR) == 0
    with pytest.raises(DomainError) as refused:
        hand_out_bags(actor=clerk, person=martins[3], access_point=desk, quantity=1)
    assert refused.value.field == "quantity"
    assert "all its bags" in refused.value.message


def test_over_distribution_is_refused_and_nothing_is_written(desk, clerk):
    couple = household_of(2)
    hand_out_bags(actor=clerk, person=couple[0], access_point=desk, quantity=2)
    audits = AuditEntry.objects.count()
    with pytest.raises(DomainError) as refused:
        hand_out_bags(actor=clerk, person=couple[1], access_point=desk, quantity=2)
    assert refused.value.field == "quantity"
    assert refused.value.code == "quota_exceeded"
    assert "Only 1 roll is left" in refused.value.message
    assert BagDistribution.objects.count() == 1
    assert AuditEntry.objects.count() == audits
    assert bags_left(couple[0].household, YEAR) == 1


@pytest.mark.parametrize("quantity", [0, -1, -5, 21])
def test_a_quantity_outside_1_to_the_limit_is_refused(desk, clerk, quantity):
    person = household_of(5)[0]
    with pytest.raises(DomainError) as refused:
        hand_out_bags(actor=clerk, person=person, access_point=desk, quantity=quantity)
    assert refused.value.field == "quantity"
    assert not BagDistribution.objects.exists()


def test_without_a_quota_table_nothing_is_handed_out(clerk):
    desk = AccessPoint.objects.get()
    person = household_of(1)[0]
    with pytest.raises(DomainError) as refused:
        hand_out_bags(
            actor=clerk, person=person, access_point=desk, quantity=1, day=date(YEAR + 3, 1, 1)
        )
    assert refused.value.field == "quantity"
    assert not BagDistribution.objects.exists()


def test_a_pool_agent_cannot_hand_out_bags_at_the_town_hall(desk):
    pool_desk = AccessPointFactory(kind=AccessPoint.Kind.DESK)
    agent = staff_user(StaffRole.Role.POOL_AGENT, facility=pool_desk.facility)
    person = household_of(1)[0]
    with pytest.raises(Forbidden):
        hand_out_bags(actor=agent, person=person, access_point=desk, quantity=1)
    # Nor at their own pool's desk: bags are a town-hall service.
    with pytest.raises(Forbidden):
        hand_out_bags(actor=agent, person=person, access_point=pool_desk, quantity=1)
    assert not BagDistribution.objects.exists()


def test_a_clerk_of_another_town_hall_cannot_hand_out_here(desk):
    other = clerk_at(town_hall_desk())
    with pytest.raises(Forbidden):
        hand_out_bags(actor=other, person=household_of(1)[0], access_point=desk, quantity=1)


def test_a_hand_out_is_audited_at_the_counter(desk, clerk):
    person = household_of(3)[1]
    hand_out_bags(actor=clerk, person=person, access_point=desk, quantity=2)
    entry = AuditEntry.objects.get(action="waste_bags.handed_out")
    assert entry.actor == clerk
    assert entry.actor_role == StaffRole.Role.CLERK
    assert entry.person == person
    assert entry.household == person.household
    assert entry.channel == AuditEntry.Channel.COUNTER
    assert entry.target == f"{YEAR}:2"


def test_next_years_quota_is_fresh(desk, clerk):
    quota_table(YEAR + 1)
    person = household_of(1)[0]
    hand_out_bags(actor=clerk, person=person, access_point=desk, quantity=2)
    assert bags_left(person.household, YEAR) == 0
    assert bags_left(person.household, YEAR + 1) == 2
    hand_out_bags(
        actor=clerk, person=person, access_point=desk, quantity=2, day=date(YEAR + 1, 1, 2)
    )
    assert bags_left(person.household, YEAR + 1) == 0
    assert BagDistribution.objects.filter(year=YEAR + 1).count() == 1


def test_the_service_offers_its_desk_action_at_town_halls_only():
    assert [a.key for a in desk_actions_for("town_hall")] == ["waste_bags"]
    assert desk_actions_for("pool") == []
