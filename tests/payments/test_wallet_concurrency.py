"""Two gates spending from one wallet at once, on PostgreSQL. As in pretix: the first test
shows the race does happen with the wallet's row lock switched off, the second that the lock
prevents it (the balance never goes below zero)."""

import pytest

from identity.errors import DomainError
from payments import ledger, queries
from payments.actions.wallets import spend_from_wallet
from payments.models import LedgerAccount
from tests.concurrency import at_once, line_up
from tests.factories import ResidentFactory
from tests.payments.factories import RegieFactory, topped_up

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def wallet_of_ten_euros():
    resident = ResidentFactory()
    topped_up(resident, 1000)
    regie = RegieFactory()
    # the régie's revenue account exists (its first creation would serialise the two gates)
    ledger.regie_account(LedgerAccount.Kind.REVENUE, regie)
    return resident, regie


def two_gates(resident, regie) -> list:
    def spend(n):
        try:
            return spend_from_wallet(
                person_id=resident.pk,
                amount_cents=800,
                regie=regie,
                reference="Piscine",
                idempotency_key=f"gate-{n}",
            )
        except DomainError as error:
            return error

    return at_once(lambda: spend(1), lambda: spend(2))


def test_without_the_lock_both_gates_spend_and_the_wallet_goes_below_zero(
    wallet_of_ten_euros, monkeypatch
):
    resident, regie = wallet_of_ten_euros
    line_up(monkeypatch, ledger, "_lock_accounts", lock=False)  # both have read "10 € left"
    answers = two_gates(resident, regie)
    assert not any(isinstance(answer, DomainError) for answer in answers)  # the race
    assert queries.wallet_balance(resident.pk) == -600  # derived from the entries
    assert queries.ledger_discrepancies()  # and the cache lost an update


def test_with_the_lock_one_gate_is_refused(wallet_of_ten_euros, monkeypatch):
    resident, regie = wallet_of_ten_euros
    line_up(monkeypatch, ledger, "_lock_accounts", lock=True)
    answers = two_gates(resident, regie)
    refused = [answer for answer in answers if isinstance(answer, DomainError)]
    assert len(refused) == 1
    assert refused[0].code == "insufficient_balance"
    assert queries.wallet_balance(resident.pk) == 200
    assert queries.ledger_discrepancies() == []
