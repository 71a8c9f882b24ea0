"""Two additions to one basket at the same instant, on PostgreSQL (two tabs, or a double click
with two different forms): both lines land and the basket's total is the sum of its lines. As
in pretix, each guarantee is shown twice: first that the race does happen with its guard
switched off (the basket's row lock; for a first addition, the retry on the one-basket-per-buyer
constraint), then that the guard prevents it."""

import pytest
from django.db import IntegrityError

from payments.actions import basket as basket_actions
from payments.actions.basket import add_to_basket
from payments.actions.orders import LineInput
from payments.models import Channel, Order, OrderLine
from tests.concurrency import line_up, run_at_once
from tests.factories import ResidentFactory
from tests.payments.factories import Recorder, RegieFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def line(cents: int) -> LineInput:
    return LineInput(
        regie=RegieFactory(code="piscines"),
        label="Article",
        handler="test.thing",
        unit_price_cents=cents,
    )


def add_at_once(buyer, *amounts):
    return run_at_once(
        *(
            lambda n=n, cents=cents: (
                add_to_basket(buyer=buyer.user, lines=[line(cents)], idempotency_key=f"tab-{n}").pk
            )
            for n, cents in enumerate(amounts)
        )
    )


def lines_sum(order: Order) -> int:
    return sum(line.total_cents for line in order.lines.all())


@pytest.fixture
def basket_of_ten_euros():
    Recorder()
    buyer = ResidentFactory()
    basket = add_to_basket(buyer=buyer.user, lines=[line(1000)], idempotency_key="first")
    return buyer, basket


def test_without_the_lock_one_addition_is_lost_from_the_total(basket_of_ten_euros, monkeypatch):
    buyer, basket = basket_of_ten_euros
    # Each has summed the basket's lines, its own inserted, before either writes the total.
    line_up(monkeypatch, basket_actions, "_lines_total", lock=False)
    outcome = add_at_once(buyer, 200, 30)
    assert outcome.errors == []
    basket.refresh_from_db()
    assert basket.lines.count() == 3
    assert basket.total_cents != lines_sum(basket)  # the race: a total that lies


def test_two_additions_at_once_both_land_and_the_total_is_the_sum(basket_of_ten_euros, monkeypatch):
    buyer, basket = basket_of_ten_euros
    line_up(monkeypatch, basket_actions, "_lines_total", lock=True)
    outcome = add_at_once(buyer, 200, 30)
    assert outcome.errors == []
    assert outcome.answers == [basket.pk, basket.pk]
    basket.refresh_from_db()
    assert basket.lines.count() == 3
    assert basket.total_cents == lines_sum(basket) == 1230


def test_without_the_retry_two_first_additions_collide(monkeypatch):
    """Without a basket yet, both additions see none and create one: the constraint lets one
    in, and without the retry that takes the winner's basket the other fails."""
    Recorder()
    RegieFactory(code="piscines")  # created before, not by both threads at once
    buyer = ResidentFactory()

    def first_look_then_create(buyer, *, total_cents):
        basket = Order.objects.filter(buyer=buyer, basket=True).first()
        if basket is not None:
            return basket, False
        order = Order.objects.create(
            buyer=buyer, payer=buyer.person, channel=Channel.WEB, basket=True, total_cents=1
        )
        return order, True

    line_up(
        monkeypatch, basket_actions, "_locked_basket", lock=False, unlocked=first_look_then_create
    )
    outcome = add_at_once(buyer, 200, 30)
    assert len(outcome.errors) == 1
    assert isinstance(outcome.errors[0], IntegrityError)
    assert "one_basket_per_buyer" in str(outcome.errors[0])


def test_two_first_additions_at_once_open_one_basket(monkeypatch):
    Recorder()
    RegieFactory(code="piscines")  # created before, not by both threads at once
    buyer = ResidentFactory()
    line_up(monkeypatch, basket_actions, "_locked_basket", lock=True)
    outcome = add_at_once(buyer, 200, 30)
    assert outcome.errors == []
    first, second = outcome.answers
    assert first == second
    basket = Order.objects.get(buyer=buyer.user)
    assert basket.basket
    assert OrderLine.objects.filter(order=basket).count() == 2
    assert basket.total_cents == lines_sum(basket) == 230


@pytest.fixture
def basket_and_wallet(basket_of_ten_euros):
    from tests.payments.factories import topped_up

    buyer, basket = basket_of_ten_euros
    topped_up(buyer, 5000)
    return buyer, basket


def pay_and_add_at_once(monkeypatch, buyer, basket, *, lock: bool):
    """The wallet pays the basket while another tab adds to it, lined up once the payment has
    read the basket's total and closed it, and the addition has found the basket."""
    from payments.actions import wallets

    line_up(
        monkeypatch, wallets, "close_basket", lock=lock, also=(basket_actions, "_locked_basket")
    )
    return run_at_once(
        lambda: (
            wallets.pay_order_from_wallet(
                actor=buyer.user,
                order=basket,
                idempotency_key="wallet-1",
                expected_total_cents=1000,
            ).amount_cents
        ),
        lambda: add_to_basket(buyer=buyer.user, lines=[line(700)], idempotency_key="tab-2").pk,
    )


def test_without_the_lock_a_line_added_while_the_wallet_pays_goes_unpaid(
    basket_and_wallet, monkeypatch
):
    buyer, basket = basket_and_wallet
    outcome = pay_and_add_at_once(monkeypatch, buyer, basket, lock=False)
    assert outcome.errors == []
    basket.refresh_from_db()
    assert basket.status == Order.Status.PAID
    assert lines_sum(basket) == 1700 != outcome.answers[0]  # the race: a line nobody paid


def test_a_line_added_while_the_wallet_pays_goes_to_a_new_basket_or_stops_the_payment(
    basket_and_wallet, monkeypatch
):
    buyer, basket = basket_and_wallet
    outcome = pay_and_add_at_once(monkeypatch, buyer, basket, lock=True)
    basket.refresh_from_db()
    if outcome.errors:  # the addition came first: the payment saw the total change
        assert [error.code for error in outcome.errors] == ["basket_changed"]
        assert basket.basket
        assert basket.status == Order.Status.PENDING
        assert basket.total_cents == lines_sum(basket) == 1700
    else:  # the payment came first: the addition opened a new basket
        assert basket.status == Order.Status.PAID
        assert lines_sum(basket) == basket.total_cents == outcome.answers[0] == 1000
        assert outcome.answers[1] != basket.pk
