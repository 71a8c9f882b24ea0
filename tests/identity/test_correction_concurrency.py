"""Two clerks correcting one household's address history at the same instant: each correction
alone is valid, together they would make two periods overlap (no database constraint can say
so). The household's row lock serialises them, so the second sees the first and is refused.
Following pretix, the race is first shown with the lock switched off. PostgreSQL only."""

from datetime import date

import pytest

from identity.actions import corrections
from identity.actions.household import AddressInput
from identity.errors import DomainError
from identity.models import HouseholdAddress
from tests.concurrency import line_up, run_at_once
from tests.factories import ResidentFactory, staff_user
from tests.identity.factories import two_addresses

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def correct_both_at_once(monkeypatch, *, lock: bool):
    """Old period 2020 → 1 March 2025, a gap, new period from 1 May 2025. One clerk extends the
    old period to 25 April, the other moves the new one's start to 10 April."""
    resident = ResidentFactory(address__valid_from=date(2020, 1, 1))
    old, new = two_addresses(resident, first_until=date(2025, 3, 1), second_from=date(2025, 5, 1))
    clerks = [staff_user("clerk"), staff_user("clerk")]
    # The audit entry is each correction's last step: neither commits before the other has
    # read the history (or waits for the household's lock).
    line_up(monkeypatch, corrections, "record_audit_entry", lock=lock)

    def correct(clerk, address, valid_from, valid_until):
        return lambda: corrections.correct_address_period(
            actor=clerk,
            address=address,
            lines=AddressInput(
                line1=address.line1, line2="", postcode="46000", commune=address.commune
            ),
            valid_from=valid_from,
            valid_until=valid_until,
            reason="Dates du bail présentées",
        )

    outcome = run_at_once(
        correct(clerks[0], old, date(2020, 1, 1), date(2025, 4, 25)),
        correct(clerks[1], new, date(2025, 4, 10), None),
    )
    periods = sorted(
        HouseholdAddress.objects.filter(household=resident.household).values_list(
            "valid_from", "valid_until"
        )
    )
    return outcome, periods


def overlapping(periods) -> bool:
    return any(
        later_from < (earlier_until or date.max)
        for (_f, earlier_until), (later_from, _u) in zip(periods, periods[1:], strict=False)
    )


def test_without_the_lock_two_corrections_make_periods_overlap(monkeypatch):
    outcome, periods = correct_both_at_once(monkeypatch, lock=False)
    assert outcome.errors == []
    assert overlapping(periods)


def test_with_the_lock_the_second_correction_is_refused(monkeypatch):
    outcome, periods = correct_both_at_once(monkeypatch, lock=True)
    assert len(outcome.errors) == 1
    assert isinstance(outcome.errors[0], DomainError)
    assert outcome.errors[0].field in {"valid_from", "valid_until"}
    assert not overlapping(periods)
