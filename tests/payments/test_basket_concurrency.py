"""Two additions to one basket at the same instant, on PostgreSQL (two tabs, or a double click
with two different forms): both lines land and the basket's total is the sum of its lines. As
in pretix, the first test shows the race does happen with the basket's lock switched off; the
others, that the lock (and the one-basket-per-buyer constraint) prevent it."""

import threading

import pytest

from payments.actions import basket as basket_actions
from payments.actions.basket import add_to_basket
from payments.actions.orders import LineInput
from payments.models import Order, OrderLine
from tests.concurrency import at_once
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


def add_at_once(buyer, *amounts) -> list:
    return at_once(
        *(
            lambda n=n, cents=cents: (
                add_to_basket(buyer=buyer.user, lines=[line(cents)], idempotency_key=f"tab-{n}").pk
            )
            for n, cents in enumerate(amounts)
        )
    )


def lines_sum(order: Order) -> int:
    return sum(line.total_cents for line in order.lines.all())


def test_without_the_lock_one_addition_is_lost_from_the_total(monkeypatch):
    Recorder()
    buyer = ResidentFactory()
    basket = add_to_basket(buyer=buyer.user, lines=[line(1000)], idempotency_key="first")
    barrier = threading.Barrier(2)
    real_new_lines = basket_actions.new_lines

    def insert_then_wait(order, lines):
        real_new_lines(order, lines)
        barrier.wait(timeout=10)  # both tabs have inserted their line, neither has summed

    def unlocked(buyer, *, total_cents):
        return Order.objects.get(buyer=buyer, basket=True), False

    monkeypatch.setattr(basket_actions, "_locked_basket", unlocked)
    monkeypatch.setattr(basket_actions, "new_lines", insert_then_wait)
    add_at_once(buyer, 200, 30)
    basket.refresh_from_db()
    assert basket.lines.count() == 3
    assert basket.total_cents != lines_sum(basket)  # the race: a total that lies


def test_two_additions_at_once_both_land_and_the_total_is_the_sum(monkeypatch):
    Recorder()
    buyer = ResidentFactory()
    basket = add_to_basket(buyer=buyer.user, lines=[line(1000)], idempotency_key="first")
    barrier = threading.Barrier(2)
    real_check_lines = basket_actions.check_lines

    def together(lines):
        barrier.wait(timeout=10)
        return real_check_lines(lines)

    monkeypatch.setattr(basket_actions, "check_lines", together)
    assert add_at_once(buyer, 200, 30) == [basket.pk, basket.pk]
    basket.refresh_from_db()
    assert basket.lines.count() == 3
    assert basket.total_cents == lines_sum(basket) == 1230


def test_two_first_additions_at_once_open_one_basket(monkeypatch):
    Recorder()
    RegieFactory(code="piscines")  # created before, not by both threads at once
    buyer = ResidentFactory()
    barrier = threading.Barrier(2)
    real_check_lines = basket_actions.check_lines

    def together(lines):
        barrier.wait(timeout=10)
        return real_check_lines(lines)

    monkeypatch.setattr(basket_actions, "check_lines", together)
    first, second = add_at_once(buyer, 200, 30)
    assert first == second
    basket = Order.objects.get(buyer=buyer.user)
    assert basket.basket
    assert OrderLine.objects.filter(order=basket).count() == 2
    assert basket.total_cents == lines_sum(basket) == 230
