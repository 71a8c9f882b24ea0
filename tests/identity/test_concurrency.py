"""Two changes to one household at the same instant (two browser tabs, a resident and a clerk)
are serialised by a row lock on the household. Following pretix, the test first shows the race
happens with the lock switched off, then that the lock prevents it. PostgreSQL only."""

import threading
import time
from datetime import date

import pytest
from django.db import IntegrityError, connection

from identity import actions
from identity.errors import DomainError
from identity.models import Household, HouseholdAddress
from tests.factories import CommuneFactory, ResidentFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def move_twice_at_once(resident, monkeypatch, *, lock: bool) -> list:
    """Two moves of the same household start together; each holds its transaction open a
    moment after writing, so that without a lock the second reads a stale current address."""
    commune = CommuneFactory()
    barrier = threading.Barrier(2)
    real_locked = actions._locked
    real_audit = actions.record_audit_entry

    def locked(household):
        barrier.wait(timeout=10)
        return real_locked(household) if lock else household

    def slow_audit(**kwargs):
        entry = real_audit(**kwargs)
        time.sleep(0.3)
        return entry

    monkeypatch.setattr(actions, "_locked", locked)
    monkeypatch.setattr(actions, "record_audit_entry", slow_audit)
    outcomes: list = []

    def move(moved_in: date):
        try:
            actions.change_address(
                actor=resident.user,
                household=Household.objects.get(pk=resident.household_id),
                address=actions.AddressInput(
                    line1=f"{moved_in.day} rue Wilson", line2="", postcode="46000", commune=commune
                ),
                moved_in=moved_in,
            )
            outcomes.append("moved")
        except (IntegrityError, DomainError) as error:
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(date(2026, 3, day),)) for day in (10, 20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)


def test_without_the_lock_two_moves_collide(monkeypatch):
    resident = ResidentFactory(address__valid_from=date(2020, 1, 1))
    outcomes = move_twice_at_once(resident, monkeypatch, lock=False)
    # The database's last line of defence catches it, but as an error, not a clear answer.
    assert "IntegrityError" in outcomes


def test_with_the_lock_moves_are_serialised_and_history_stays_whole(monkeypatch):
    resident = ResidentFactory(address__valid_from=date(2020, 1, 1))
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
