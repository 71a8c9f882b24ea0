"""Two gates spending the last entry of the same quota (a yearly allowance, an entry book) at
the same instant: one entry, one person in, on PostgreSQL. As in pretix, the first test shows
the race does happen when the choice does not lock the entitlement's row (both gates read "one
left" and both grant, the second decrement then breaks the entries' CHECK); the second, with
the gates lined up the same way, that the row lock (SELECT … FOR UPDATE in decide's choice)
prevents it. The card-level version, with
real HTTP requests, is tests/card/test_tap_concurrency.py."""

import pytest
from django.utils import timezone

from services.catalog import actions
from services.catalog.models import AccessPoint, Entitlement
from tests.concurrency import line_up, run_at_once
from tests.factories import AccessPointFactory, EntitlementFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def quota_with_one_left():
    """A yearly quota of 12 uses with one left, and two gates of the same facility."""
    first = AccessPointFactory(kind=AccessPoint.Kind.ENTRANCE)
    second = AccessPointFactory(facility=first.facility, kind=AccessPoint.Kind.ENTRANCE)
    quota = EntitlementFactory(label="Quota annuel", entries=12, entries_left=1)
    return quota, (first, second)


def both_gates(quota, gates):
    now = timezone.now()
    outcome = run_at_once(
        *(
            lambda gate=gate: actions.decide(holder_id=quota.holder_id, access_point=gate, at=now)
            for gate in gates
        )
    )
    return outcome.answers, outcome.errors


def test_without_the_row_lock_both_gates_grant_the_last_entry(quota_with_one_left, monkeypatch):
    quota, gates = quota_with_one_left
    # Both gates have chosen the quota, reading "one left", before either spends it.
    line_up(monkeypatch, actions, "_choose_entitlement", lock=False)
    answers, errors = both_gates(quota, gates)
    # The race: both granted it; the second decrement would take the quota below zero and
    # only the CHECK stops it, with an error instead of an answer.
    assert [a.reason for a in answers if a is not None] == ["granted"]
    assert len(errors) == 1
    assert "entries_left" in str(errors[0])


def test_the_last_entry_goes_to_one_gate_only(quota_with_one_left, monkeypatch):
    quota, gates = quota_with_one_left
    line_up(monkeypatch, actions, "_choose_entitlement", lock=True)
    answers, errors = both_gates(quota, gates)
    assert not errors
    assert sorted(a.reason for a in answers) == ["granted", "no_entitlement"]
    assert Entitlement.objects.get(pk=quota.pk).entries_left == 0
