"""Two changes to one household at the same instant (two browser tabs, a resident and a clerk)
are serialised by a row lock on the household. Following pretix, the test first shows the race
happens with the lock switched off, then, with the moves lined up the same way, that the lock
prevents it. PostgreSQL only."""

from datetime import date

import pytest

from identity.actions import household as household_actions
from identity.errors import DomainError
from identity.models import Household, HouseholdAddress
from tests.concurrency import line_up, run_at_once
from tests.factories import CommuneFactory, ResidentFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def resident():
    return ResidentFactory(address__valid_from=date(2020, 1, 1))


def move_twice_at_once(resident, monkeypatch, *, lock: bool) -> list:
    """Two moves of the same household, on the 10th and the 20th of March. Neither commits
    before the other has read the current address (or waits for its lock): the audit entry is
    each move's last step."""
    commune = CommuneFactory()
    line_up(monkeypatch, household_actions, "record_audit_entry", lock=lock)

    def move(moved_in: date):
        try:
            household_actions.change_address(
                actor=resident.user,
                household=Household.objects.get(pk=resident.household_id),
                address=household_actions.AddressInput(
                    line1=f"{moved_in.day} rue Wilson", line2="", postcode="46000", commune=commune
                ),
                moved_in=moved_in,
            )
            return "moved"
        except DomainError as error:
            return type(error).__name__

    outcome = run_at_once(*(lambda day=day: move(date(2026, 3, day)) for day in (10, 20)))
    return sorted([a for a in outcome.answers if a] + [type(e).__name__ for e in outcome.errors])


def test_without_the_lock_two_moves_collide(resident, monkeypatch):
    outcomes = move_twice_at_once(resident, monkeypatch, lock=False)
    # Both closed the same address: the second then opens another current address, and only
    # the database's last line of defence catches it, as an error instead of a clear answer.
    assert outcomes == ["IntegrityError", "moved"]


def test_with_the_lock_moves_are_serialised_and_history_stays_whole(resident, monkeypatch):
    outcomes = move_twice_at_once(resident, monkeypatch, lock=True)
    assert "IntegrityError" not in outcomes
    assert "moved" in outcomes
    addresses = list(
        HouseholdAddress.objects.filter(household=resident.household).order_by("valid_from")
    )
    assert sum(1 for a in addresses if a.valid_until is None) == 1
    # Periods follow each other with no gap and no overlap.
    for earlier, later in zip(addresses, addresses[1:], strict=False):
        assert earlier.valid_until == later.valid_from


def add_the_same_child_twice_at_once(resident, monkeypatch, *, lock: bool) -> list:
    """The "Add" button pressed in two tabs: the same child, at the same instant. Each waits,
    just before its audit entry (its last step), for the other."""
    line_up(monkeypatch, household_actions, "record_audit_entry", lock=lock)

    def add():
        try:
            household_actions.add_household_member(
                actor=resident.user,
                household=Household.objects.get(pk=resident.household_id),
                role="child",
                first_name="Léa",
                last_name="Martin",
                birth_date=date(2015, 6, 3),
            )
            return "added"
        except DomainError as error:
            return error.code

    outcome = run_at_once(add, add)
    return sorted([a for a in outcome.answers if a] + [type(e).__name__ for e in outcome.errors])


def test_without_the_lock_the_same_child_is_added_twice(resident, monkeypatch):
    assert add_the_same_child_twice_at_once(resident, monkeypatch, lock=False) == [
        "added",
        "added",
    ]
    assert resident.household.members.filter(first_name="Léa").count() == 2


def test_with_the_lock_the_same_child_is_added_once(resident, monkeypatch):
    outcomes = add_the_same_child_twice_at_once(resident, monkeypatch, lock=True)
    assert outcomes == ["added", "already_a_member"]
    assert resident.household.members.filter(first_name="Léa").count() == 1
