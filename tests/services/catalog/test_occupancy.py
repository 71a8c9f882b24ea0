"""Live occupancy and anti-passback at an entrance: granted entrances minus exits since the
start of the Paris day, a maximum that refuses `capacity_reached`, and `already_inside` for a
card passed back through the turnstile. Exits always open and free the place of a person
counted in; nothing is consumed or counted when refused."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from services.catalog.actions import decide
from services.catalog.models import AccessPoint, FacilityOccupancy, Presence
from tests.factories import (
    AccessPointFactory,
    EntitlementFactory,
    FacilityAccessRulesFactory,
    PassFactory,
    PersonFactory,
)

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
MONDAY_NOON = datetime(2026, 3, 23, 12, 0, tzinfo=PARIS)


def tap(holder, access_point, moment: datetime):
    with time_machine.travel(moment, tick=False):
        return decide(holder_id=holder.pk, access_point=access_point, at=timezone.now())


def swimmer(*, book: bool = False):
    holder = PersonFactory()
    period = {"valid_from": date(2026, 1, 1), "valid_until": date(2027, 12, 31)}
    (EntitlementFactory if book else PassFactory)(holder=holder, **period)
    return holder


class Pool:
    """A pool without opening hours (always open) and its three access points."""

    def __init__(self, **rules):
        self.entrance = AccessPointFactory()
        self.facility = self.entrance.facility
        self.exit = AccessPointFactory(facility=self.facility, kind=AccessPoint.Kind.EXIT)
        self.desk = AccessPointFactory(facility=self.facility, kind=AccessPoint.Kind.DESK)
        FacilityAccessRulesFactory(facility=self.facility, **rules)

    @property
    def inside(self) -> int:
        row = FacilityOccupancy.objects.filter(facility=self.facility).first()
        return row.inside if row else 0


def test_the_last_place_goes_to_the_first_and_an_exit_frees_it():
    pool = Pool(max_occupancy=2)
    alice, bob, chloe = swimmer(), swimmer(), swimmer()
    assert tap(alice, pool.entrance, MONDAY_NOON).granted
    assert tap(bob, pool.entrance, MONDAY_NOON + timedelta(minutes=1)).granted
    assert pool.inside == 2
    refused = tap(chloe, pool.entrance, MONDAY_NOON + timedelta(minutes=2))
    assert (refused.granted, refused.reason) == (False, "capacity_reached")
    assert pool.inside == 2
    assert tap(alice, pool.exit, MONDAY_NOON + timedelta(minutes=3)).reason == "exit"
    assert pool.inside == 1
    assert tap(chloe, pool.entrance, MONDAY_NOON + timedelta(minutes=4)).granted
    assert pool.inside == 2


def test_nothing_is_consumed_when_the_pool_is_full():
    pool = Pool(max_occupancy=1)
    assert tap(swimmer(), pool.entrance, MONDAY_NOON).granted
    late = swimmer(book=True)
    refused = tap(late, pool.entrance, MONDAY_NOON)
    assert (refused.reason, refused.consumed) == ("capacity_reached", 0)
    assert late.entitlements.get().entries_left == 10
    assert not Presence.objects.filter(holder=late).exists()
    assert pool.inside == 1


def test_exits_open_even_when_the_pool_is_full():
    pool = Pool(max_occupancy=1)
    inside = swimmer()
    assert tap(inside, pool.entrance, MONDAY_NOON).granted
    assert tap(swimmer(), pool.entrance, MONDAY_NOON).reason == "capacity_reached"
    assert tap(inside, pool.exit, MONDAY_NOON).granted


def test_a_desk_check_neither_counts_nor_is_refused_when_full():
    pool = Pool(max_occupancy=1)
    assert tap(swimmer(), pool.entrance, MONDAY_NOON).granted
    assert tap(swimmer(), pool.desk, MONDAY_NOON).reason == "valid"
    assert pool.inside == 1


def test_a_second_tap_at_the_exit_frees_no_second_place():
    pool = Pool(max_occupancy=2)
    alice, bob = swimmer(), swimmer()
    tap(alice, pool.entrance, MONDAY_NOON)
    tap(bob, pool.entrance, MONDAY_NOON)
    tap(alice, pool.exit, MONDAY_NOON + timedelta(minutes=30))
    tap(alice, pool.exit, MONDAY_NOON + timedelta(minutes=31))
    assert pool.inside == 1
    assert tap(swimmer(), pool.entrance, MONDAY_NOON + timedelta(minutes=32)).granted
    assert tap(swimmer(), pool.entrance, MONDAY_NOON + timedelta(minutes=33)).reason == (
        "capacity_reached"
    )


def test_occupancy_starts_again_at_midnight_in_paris():
    pool = Pool(max_occupancy=1, anti_passback_minutes=None)
    stayed_late = swimmer()
    assert tap(stayed_late, pool.entrance, datetime(2026, 7, 31, 21, 0, tzinfo=PARIS)).granted
    assert tap(swimmer(), pool.entrance, datetime(2026, 7, 31, 21, 30, tzinfo=PARIS)).reason == (
        "capacity_reached"
    )
    # 22:30 UTC on 31 July is 00:30 on 1 August in Paris: a new day, an empty pool.
    early = swimmer()
    assert tap(early, pool.entrance, datetime(2026, 7, 31, 22, 30, tzinfo=ZoneInfo("UTC"))).granted
    assert pool.inside == 1
    # Yesterday's swimmer going out frees nothing of today's count.
    assert tap(stayed_late, pool.exit, datetime(2026, 8, 1, 0, 45, tzinfo=PARIS)).granted
    assert pool.inside == 1


def test_a_pool_without_a_maximum_or_anti_passback_keeps_no_state():
    entrance = AccessPointFactory()  # no access rules at all
    holder = swimmer()
    for minute in range(3):
        assert tap(holder, entrance, MONDAY_NOON + timedelta(minutes=minute)).granted
    exit_ = AccessPointFactory(facility=entrance.facility, kind=AccessPoint.Kind.EXIT)
    assert tap(holder, exit_, MONDAY_NOON).granted
    assert not FacilityOccupancy.objects.exists()
    assert not Presence.objects.exists()


def test_a_maximum_of_zero_lets_nobody_in():
    pool = Pool(max_occupancy=0)
    assert tap(swimmer(), pool.entrance, MONDAY_NOON).reason == "capacity_reached"


# --- Anti-passback ---------------------------------------------------------------------------


def test_a_card_passed_back_through_the_turnstile_is_refused_already_inside():
    pool = Pool(max_occupancy=None, anti_passback_minutes=240)
    holder = swimmer(book=True)
    assert tap(holder, pool.entrance, MONDAY_NOON).remaining == 9
    refused = tap(holder, pool.entrance, MONDAY_NOON + timedelta(minutes=2))
    assert (refused.granted, refused.reason, refused.consumed) == (False, "already_inside", 0)
    assert holder.entitlements.get().entries_left == 9


def test_after_an_exit_the_same_person_may_come_in_again():
    pool = Pool(max_occupancy=None, anti_passback_minutes=240)
    holder = swimmer()
    assert tap(holder, pool.entrance, MONDAY_NOON).granted
    assert tap(holder, pool.exit, MONDAY_NOON + timedelta(minutes=50)).granted
    assert tap(holder, pool.entrance, MONDAY_NOON + timedelta(minutes=55)).granted
    assert tap(holder, pool.entrance, MONDAY_NOON + timedelta(minutes=56)).reason == (
        "already_inside"
    )


def test_the_anti_passback_ends_after_its_delay():
    pool = Pool(max_occupancy=None, anti_passback_minutes=240)
    holder = swimmer()
    assert tap(holder, pool.entrance, MONDAY_NOON).granted
    assert tap(holder, pool.entrance, MONDAY_NOON + timedelta(minutes=239)).reason == (
        "already_inside"
    )
    # Gone out another way (an emergency exit, behind someone): let in again after 4 hours.
    assert tap(holder, pool.entrance, MONDAY_NOON + timedelta(minutes=240)).granted


def test_the_anti_passback_ends_at_midnight():
    pool = Pool(max_occupancy=None, anti_passback_minutes=24 * 60)
    holder = swimmer()
    assert tap(holder, pool.entrance, datetime(2026, 3, 28, 19, 0, tzinfo=PARIS)).granted
    assert tap(holder, pool.entrance, datetime(2026, 3, 28, 23, 59, tzinfo=PARIS)).reason == (
        "already_inside"
    )
    assert tap(holder, pool.entrance, datetime(2026, 3, 29, 0, 1, tzinfo=PARIS)).granted


def test_without_anti_passback_the_same_card_enters_twice():
    pool = Pool(max_occupancy=10, anti_passback_minutes=None)
    holder = swimmer()
    assert tap(holder, pool.entrance, MONDAY_NOON).granted
    assert tap(holder, pool.entrance, MONDAY_NOON + timedelta(minutes=1)).granted
    assert pool.inside == 2  # entries minus exits: on the safe side


def test_anti_passback_is_per_facility():
    first, second = Pool(), Pool()
    holder = swimmer()
    assert tap(holder, first.entrance, MONDAY_NOON).granted
    assert tap(holder, second.entrance, MONDAY_NOON + timedelta(minutes=20)).granted


def test_someone_inside_a_full_pool_is_told_already_inside():
    pool = Pool(max_occupancy=1, anti_passback_minutes=240)
    holder = swimmer()
    assert tap(holder, pool.entrance, MONDAY_NOON).granted
    assert tap(holder, pool.entrance, MONDAY_NOON).reason == "already_inside"


def test_an_already_inside_refusal_gives_its_place_back():
    pool = Pool(max_occupancy=2, anti_passback_minutes=240)
    holder = swimmer()
    assert tap(holder, pool.entrance, MONDAY_NOON).granted
    assert tap(holder, pool.entrance, MONDAY_NOON).reason == "already_inside"
    assert pool.inside == 1
    assert tap(swimmer(), pool.entrance, MONDAY_NOON).granted
    assert pool.inside == 2


def test_no_entitlement_counts_nobody_in():
    pool = Pool(max_occupancy=5)
    assert tap(PersonFactory(), pool.entrance, MONDAY_NOON).reason == "no_entitlement"
    assert pool.inside == 0
    assert not Presence.objects.exists()


def test_a_queued_offline_tap_of_an_earlier_day_is_not_counted():
    pool = Pool(max_occupancy=1)
    holder = swimmer()
    with time_machine.travel(MONDAY_NOON + timedelta(days=1), tick=False):
        yesterday = decide(holder_id=holder.pk, access_point=pool.entrance, at=MONDAY_NOON)
    assert yesterday.granted
    assert not FacilityOccupancy.objects.exists()
    assert not Presence.objects.exists()
