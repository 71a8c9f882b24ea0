"""The double-entry ledger: balanced transactions only, immutable entries, balances derived
from the entries (the wallets' cached balance always agrees)."""

import random

import pytest
from django.db import IntegrityError, connection, transaction

from identity.errors import DomainError
from payments import ledger, queries
from payments.actions.wallets import spend_from_wallet
from payments.errors import LedgerUnbalanced
from payments.models import LedgerAccount, LedgerEntry, LedgerTransaction
from payments.money import format_cents
from tests.factories import PersonFactory, ResidentFactory
from tests.payments.factories import Recorder, RegieFactory, key, order_for, pay, topped_up

pytestmark = pytest.mark.django_db


def test_post_refuses_an_unbalanced_transaction():
    regie = RegieFactory()
    revenue = ledger.regie_account(LedgerAccount.Kind.REVENUE, regie)
    clearing = ledger.provider_account(LedgerAccount.Kind.CLEARING, "demo")
    with transaction.atomic(), pytest.raises(LedgerUnbalanced):
        ledger.post(kind="adjustment", entries=[(revenue, -100), (clearing, 99)])
    with transaction.atomic(), pytest.raises(LedgerUnbalanced):
        ledger.post(kind="adjustment", entries=[(revenue, -1.5), (clearing, 1.5)])
    assert not LedgerTransaction.objects.exists()


def test_post_needs_the_callers_transaction():
    clearing = ledger.provider_account(LedgerAccount.Kind.CLEARING, "demo")
    bank = ledger.provider_account(LedgerAccount.Kind.BANK, "demo")
    # pytest-django wraps the test in a transaction: leave it for the check
    connection.in_atomic_block, was = False, connection.in_atomic_block
    try:
        with pytest.raises(RuntimeError):
            ledger.post(kind="adjustment", entries=[(clearing, -1), (bank, 1)])
    finally:
        connection.in_atomic_block = was


def test_entries_and_transactions_are_append_only():
    Recorder()
    pay(order_for(ResidentFactory(), 1000))
    entry = LedgerEntry.objects.first()
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()
    with pytest.raises(ValueError, match="append-only"):
        entry.transaction.delete()


def test_format_cents():
    assert format_cents(123456) == "1\u202f234,56\u00a0€"
    assert format_cents(5) == "0,05\u00a0€"
    assert format_cents(-250) == "-2,50\u00a0€"


def test_random_operations_keep_the_books_balanced_and_the_cache_right():
    """A checked invariant (the PostgreSQL trigger is tested below): whatever happens, every
    transaction sums to zero and every wallet's cached balance is the sum of its entries."""
    Recorder()
    rng = random.Random(5)
    people = [PersonFactory() for _ in range(3)]
    regie = RegieFactory()
    resident = ResidentFactory()
    for person in people:
        person.user = None
    refusals = []
    for _ in range(60):
        person = rng.choice(people)
        move = rng.choice(["topup", "spend", "order"])
        try:
            if move == "topup":
                topped_up(resident, rng.randint(1, 5000))
                spend_from_wallet(
                    person_id=resident.pk,
                    amount_cents=rng.randint(1, 3000),
                    regie=regie,
                    reference="gate",
                    idempotency_key=key(),
                )
            elif move == "spend":
                spend_from_wallet(
                    person_id=person.pk,
                    amount_cents=rng.randint(1, 3000),
                    regie=regie,
                    reference="gate",
                    idempotency_key=key(),
                )
            else:
                pay(order_for(resident, rng.randint(1, 9000), regie=regie))
        except DomainError as error:
            refusals.append(error.code)
    assert set(refusals) <= {"insufficient_balance"}
    assert queries.unbalanced_transactions() == []
    assert queries.ledger_discrepancies() == []
    assert all(queries.wallet_balance(p.pk) >= 0 for p in [*people, resident])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_refuses_an_unbalanced_transaction_at_commit():
    regie = RegieFactory()
    revenue = ledger.regie_account(LedgerAccount.Kind.REVENUE, regie)

    def unbalanced():
        with transaction.atomic():
            txn = LedgerTransaction.objects.create(kind="adjustment")
            # bypassing ledger.post: only the deferred trigger stands in the way
            LedgerEntry.objects.create(transaction=txn, account=revenue, amount_cents=-100)

    with pytest.raises(IntegrityError):
        unbalanced()
    assert not LedgerEntry.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_refuses_to_change_an_entry():
    Recorder()
    pay(order_for(ResidentFactory(), 1000))
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.filter(amount_cents__gt=0).update(amount_cents=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.all().delete()
    assert queries.unbalanced_transactions() == []
