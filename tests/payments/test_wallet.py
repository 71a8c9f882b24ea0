"""Wallets: top-ups by the holder or a guardian, pay-per-entry spending never below zero,
idempotent retries, balances derived from the ledger."""

import pytest
from django.db import transaction

from identity.errors import DomainError, Forbidden
from payments import queries
from payments.actions.checkout import start_payment
from payments.actions.provider_events import record_payment_succeeded
from payments.actions.wallets import create_topup_order, spend_from_wallet
from payments.models import LedgerTransaction
from tests.factories import ResidentFactory
from tests.payments.factories import (
    RegieFactory,
    key,
    resident_with_child,
    topped_up,
    wallet_regie,
)

pytestmark = pytest.mark.django_db


def test_a_top_up_credits_the_wallet_once_paid():
    resident = ResidentFactory()
    topped_up(resident, 2000)
    assert queries.wallet_balance(resident.pk) == 2000
    history = queries.wallet_history(resident.pk)
    assert [line.amount_cents for line in history] == [2000]


def test_a_guardian_tops_up_their_child():
    parent, child = resident_with_child()
    topped_up(child, 1500, actor=parent)
    assert queries.wallet_balance(child.pk) == 1500
    assert queries.wallet_balance(parent.pk) == 0


def test_nobody_else_tops_up_a_wallet():
    wallet_regie()
    _parent, child = resident_with_child()
    stranger = ResidentFactory()
    with pytest.raises(Forbidden):
        create_topup_order(actor=stranger.user, person=child, amount_cents=1000)


@pytest.mark.parametrize(
    ("cents", "code"),
    [(0, "amount_not_positive"), (-5, "amount_not_positive"), (50001, "amount_too_large")],
)
def test_top_up_amount_must_be_sane(cents, code):
    wallet_regie()
    resident = ResidentFactory()
    with pytest.raises(DomainError) as refused:
        create_topup_order(actor=resident.user, person=resident, amount_cents=cents)
    assert refused.value.code == code
    assert refused.value.field == "amount_cents"


def test_spending_is_refused_beyond_the_balance_and_writes_nothing():
    resident = ResidentFactory()
    topped_up(resident, 500)
    regie = RegieFactory()
    before = LedgerTransaction.objects.count()
    with pytest.raises(DomainError) as refused:
        spend_from_wallet(
            person_id=resident.pk,
            amount_cents=501,
            regie=regie,
            reference="Piscine",
            idempotency_key=key(),
        )
    assert refused.value.code == "insufficient_balance"
    assert LedgerTransaction.objects.count() == before
    assert queries.wallet_balance(resident.pk) == 500


def test_a_retried_gate_request_spends_once():
    resident = ResidentFactory()
    topped_up(resident, 1000)
    regie = RegieFactory()
    first = spend_from_wallet(
        person_id=resident.pk,
        amount_cents=350,
        regie=regie,
        reference="Piscine",
        idempotency_key="tap-1",
    )
    again = spend_from_wallet(
        person_id=resident.pk,
        amount_cents=350,
        regie=regie,
        reference="Piscine",
        idempotency_key="tap-1",
    )
    assert first.pk == again.pk
    assert queries.wallet_balance(resident.pk) == 650
    big = spend_from_wallet(
        person_id=resident.pk,
        amount_cents=600,
        regie=regie,
        reference="Piscine",
        idempotency_key="tap-big",
    )
    # 50 cents left: the replay of a 6 € spending is its first answer, not a refusal
    replay = spend_from_wallet(
        person_id=resident.pk,
        amount_cents=600,
        regie=regie,
        reference="Piscine",
        idempotency_key="tap-big",
    )
    assert replay.pk == big.pk
    assert queries.wallet_balance(resident.pk) == 50
    assert queries.ledger_discrepancies() == []


def test_spending_inside_the_callers_transaction_rolls_back_with_it():
    resident = ResidentFactory()
    topped_up(resident, 1000)
    regie = RegieFactory()

    def gate_transaction():
        with transaction.atomic():
            spend_from_wallet(
                person_id=resident.pk,
                amount_cents=300,
                regie=regie,
                reference="Piscine",
                idempotency_key="tap-2",
            )
            raise RuntimeError("the gate's own transaction failed")

    with pytest.raises(RuntimeError):
        gate_transaction()
    assert queries.wallet_balance(resident.pk) == 1000
    assert queries.ledger_discrepancies() == []


def test_a_wallet_without_money_has_no_balance():
    resident = ResidentFactory()
    assert queries.wallet_balance(resident.pk) == 0
    with pytest.raises(DomainError):
        spend_from_wallet(
            person_id=resident.pk,
            amount_cents=1,
            regie=RegieFactory(),
            reference="x",
            idempotency_key=key(),
        )


def test_a_kiosk_tops_up_a_card_holders_wallet_on_its_terminal():
    wallet_regie()
    resident = ResidentFactory()
    order = create_topup_order(
        actor=None, person=resident, amount_cents=1000, channel="kiosk", idempotency_key="kiosk-1"
    )
    again = create_topup_order(
        actor=None, person=resident, amount_cents=1000, channel="kiosk", idempotency_key="kiosk-1"
    )
    assert order.pk == again.pk
    assert order.channel == "kiosk"
    payment, start = start_payment(
        order=order, provider="demo", return_url="", terminal_id="kiosk-7"
    )
    assert start.kind == "terminal"
    record_payment_succeeded(
        provider="demo",
        provider_reference=payment.provider_reference,
        amount_cents=1000,
        currency="EUR",
    )
    assert queries.wallet_balance(resident.pk) == 1000


def test_an_online_top_up_needs_a_login():
    wallet_regie()
    with pytest.raises(Forbidden):
        create_topup_order(actor=None, person=ResidentFactory(), amount_cents=1000)


def test_an_idempotency_key_is_not_shared_between_buyers():
    """Each buyer's keys are their own: the same key from another buyer is another order."""
    wallet_regie()
    first, second = ResidentFactory(), ResidentFactory()
    mine = create_topup_order(
        actor=first.user, person=first, amount_cents=1000, idempotency_key="same"
    )
    theirs = create_topup_order(
        actor=second.user, person=second, amount_cents=1000, idempotency_key="same"
    )
    assert mine.pk != theirs.pk
    assert theirs.buyer == second.user
