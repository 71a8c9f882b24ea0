"""The web basket: a resident's purchases gather in one open order (`add_to_basket`), lines
come out of it (`remove_from_basket`, calling the line's `on_cancel`), the first payment attempt
closes it, and the basket page lists, removes and pays."""

import pytest
from django.urls import reverse

from identity.errors import Conflict, DomainError, NotFound
from payments import queries
from payments.actions.basket import add_to_basket, remove_from_basket
from payments.actions.checkout import start_payment
from payments.actions.inputs import MAX_ORDER_CENTS
from payments.actions.orders import LineInput, cancel_order
from payments.actions.provider_events import record_payment_succeeded
from payments.fulfilment import register_fulfilment_handler
from payments.models import BasketAddition, Order, OrderLine, Payment
from payments.money import format_cents
from tests.card.factories import logged_in
from tests.factories import ResidentFactory
from tests.payments.factories import Recorder, RegieFactory, order_for, pay

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


@pytest.fixture
def recorder():
    return Recorder()


def line(cents=1500, label="Article", regie=None, handler="test.thing", **extra) -> LineInput:
    return LineInput(
        regie=regie or RegieFactory(code="piscines"),
        label=label,
        handler=handler,
        unit_price_cents=cents,
        explanation="Tarif résident",
        **extra,
    )


def test_additions_gather_in_one_basket_whose_total_is_the_sum_of_its_lines(recorder):
    resident = ResidentFactory()
    first = add_to_basket(buyer=resident.user, lines=[line(1500)], idempotency_key="a")
    second = add_to_basket(
        buyer=resident.user, lines=[line(700, quantity=2), line(300)], idempotency_key="b"
    )
    assert first.pk == second.pk
    second.refresh_from_db()
    assert (second.basket, second.status, second.channel) == (True, "pending", "web")
    assert second.lines.count() == 3
    assert second.total_cents == 1500 + 1400 + 300
    assert second.payer == resident
    assert queries.basket_of(resident.user) == second
    assert queries.basket_size(resident.user) == 3


def test_a_double_submitted_addition_adds_once(recorder):
    resident = ResidentFactory()
    for _click in range(2):
        basket = add_to_basket(buyer=resident.user, lines=[line(1500)], idempotency_key="same-form")
    assert basket.lines.count() == 1
    basket.refresh_from_db()
    assert basket.total_cents == 1500
    assert BasketAddition.objects.count() == 1


def test_the_same_key_of_another_buyer_is_theirs(recorder):
    one, two = ResidentFactory(), ResidentFactory()
    a = add_to_basket(buyer=one.user, lines=[line()], idempotency_key="k")
    b = add_to_basket(buyer=two.user, lines=[line()], idempotency_key="k")
    assert a.pk != b.pk
    assert (a.lines.count(), b.lines.count()) == (1, 1)


def test_a_basket_over_the_maximum_is_refused_and_nothing_is_written(recorder):
    resident = ResidentFactory()
    basket = add_to_basket(buyer=resident.user, lines=[line(400_000)], idempotency_key="a")
    with pytest.raises(DomainError) as refused:
        add_to_basket(buyer=resident.user, lines=[line(100_001)], idempotency_key="too-much")
    assert (refused.value.field, refused.value.code) == ("total_cents", "basket_too_large")
    assert format_cents(MAX_ORDER_CENTS) in refused.value.message
    basket.refresh_from_db()
    assert basket.total_cents == 400_000
    assert OrderLine.objects.count() == 1
    assert not BasketAddition.objects.filter(idempotency_key="too-much").exists()
    # and a first addition alone above the maximum creates no basket at all
    other = ResidentFactory()
    with pytest.raises(DomainError):
        add_to_basket(buyer=other.user, lines=[line(500_001)], idempotency_key="x")
    assert not Order.objects.filter(buyer=other.user).exists()


def test_removing_lines_calls_on_cancel_recomputes_and_an_emptied_basket_is_cancelled():
    released = []
    register_fulfilment_handler(
        "test.held",
        fulfil=lambda line: None,
        undo=lambda line: None,
        on_cancel=lambda line: released.append(line.pk),
    )
    resident = ResidentFactory()
    basket = add_to_basket(
        buyer=resident.user,
        lines=[line(1000, handler="test.held"), line(500, handler="test.held")],
        idempotency_key="a",
    )
    first, second = basket.lines.order_by("pk")
    basket = remove_from_basket(buyer=resident.user, line=first)
    assert released == [first.pk]
    assert (basket.total_cents, basket.status, basket.basket) == (500, "pending", True)
    basket = remove_from_basket(buyer=resident.user, line=second)
    assert released == [first.pk, second.pk]
    basket.refresh_from_db()
    assert (basket.total_cents, basket.status, basket.basket) == (0, "cancelled", False)
    assert not basket.lines.exists()
    assert queries.basket_of(resident.user) is None
    # the next purchase opens a new basket
    again = add_to_basket(
        buyer=resident.user, lines=[line(200, handler="test.held")], idempotency_key="b"
    )
    assert again.pk != basket.pk


def test_once_a_payment_attempt_started_later_additions_go_to_a_new_basket(recorder):
    resident = ResidentFactory()
    paying = add_to_basket(buyer=resident.user, lines=[line(1500)], idempotency_key="a")
    payment, _start = start_payment(order=paying, provider="demo", return_url="/")
    paying.refresh_from_db()
    assert not paying.basket
    assert payment.amount_cents == 1500
    with pytest.raises(Conflict):
        remove_from_basket(buyer=resident.user, line=paying.lines.get())
    new = add_to_basket(buyer=resident.user, lines=[line(700)], idempotency_key="b")
    assert new.pk != paying.pk
    assert new.basket
    paying.refresh_from_db()
    assert (paying.total_cents, paying.lines.count()) == (1500, 1)
    # a replay of the first form still answers the order its line went to, adding nothing
    assert add_to_basket(buyer=resident.user, lines=[line(1500)], idempotency_key="a") == paying
    assert OrderLine.objects.count() == 2
    # the paying order is paid as it was; its checkout page has no "Remove" button
    client = logged_in(resident.user)
    page = client.get(reverse("payments:checkout", args=[paying.public_id])).content.decode()
    assert "Remove" not in page
    assert format_cents(1500) in page
    pay_result = record_payment_succeeded(
        provider="demo",
        provider_reference=payment.provider_reference,
        amount_cents=1500,
        currency="EUR",
    )
    assert pay_result.order.status == "paid"


def test_orders_paid_at_once_are_never_baskets(recorder):
    resident = ResidentFactory()
    kiosk = order_for(resident, 1000, channel="kiosk")
    web = order_for(resident, 1000)  # create_order: the API's own order
    assert not kiosk.basket
    assert not web.basket
    assert queries.basket_of(resident.user) is None


def test_cancelling_a_basket_closes_it(recorder):
    resident = ResidentFactory()
    basket = add_to_basket(buyer=resident.user, lines=[line()], idempotency_key="a")
    cancel_order(actor=resident.user, order=basket)
    basket.refresh_from_db()
    assert (basket.status, basket.basket) == ("cancelled", False)


# --- The pages --------------------------------------------------------------------------------


def test_the_basket_page_lists_lines_removes_them_and_the_header_counts_them(recorder):
    resident = ResidentFactory()
    basket = add_to_basket(
        buyer=resident.user,
        lines=[line(1500, label="Carnet 10 entrées"), line(700, label="Entrée")],
        idempotency_key="a",
    )
    client = logged_in(resident.user)
    assert client.get(reverse("payments:basket")).url == reverse(
        "payments:checkout", args=[basket.public_id]
    )
    page = client.get(reverse("payments:checkout", args=[basket.public_id])).content.decode()
    assert "Carnet 10 entrées" in page
    assert "Tarif résident" in page
    assert "Basket (2)" in page
    assert page.count("Remove") >= 2
    assert f"Pay {format_cents(2200)}" in page
    entry = basket.lines.get(label="Entrée")
    response = client.post(reverse("payments:remove_line", args=[entry.public_id]))
    assert response.url == reverse("payments:checkout", args=[basket.public_id])
    page = client.get(response.url).content.decode()
    assert "was removed from your basket" in page
    assert "Basket (1)" in page
    basket.refresh_from_db()
    assert basket.total_cents == 1500
    last = basket.lines.get()
    response = client.post(reverse("payments:remove_line", args=[last.public_id]))
    assert response.url == reverse("payments:basket")
    page = client.get(response.url).content.decode()
    assert "Your basket is empty." in page
    assert "Basket (" not in page


def test_removing_is_a_post_and_another_users_line_is_not_found(recorder):
    owner, stranger = ResidentFactory(), ResidentFactory()
    basket = add_to_basket(buyer=owner.user, lines=[line()], idempotency_key="a")
    target = basket.lines.get()
    url = reverse("payments:remove_line", args=[target.public_id])
    assert logged_in(owner.user).get(url).status_code == 405
    assert logged_in(stranger.user).post(url).status_code == 404
    with pytest.raises(NotFound):
        remove_from_basket(buyer=stranger.user, line=target)
    assert basket.lines.count() == 1


def test_paying_a_basket_that_changed_in_another_tab_is_refused(recorder):
    resident = ResidentFactory()
    basket = add_to_basket(buyer=resident.user, lines=[line(1500)], idempotency_key="a")
    client = logged_in(resident.user)
    checkout = reverse("payments:checkout", args=[basket.public_id])
    form = client.get(checkout).context["form"]
    add_to_basket(buyer=resident.user, lines=[line(700)], idempotency_key="b")
    response = client.post(
        checkout, {"attempt": form.initial["attempt"], "total": 1500}, follow=True
    )
    assert "Your basket changed" in response.content.decode()
    assert not Payment.objects.exists()
    form = response.context["form"]
    response = client.post(checkout, {"attempt": form.initial["attempt"], "total": 2200})
    assert Payment.objects.get().amount_cents == 2200
    basket.refresh_from_db()
    assert not basket.basket


def test_the_wallet_top_up_goes_to_the_basket_beside_other_lines(recorder):
    from tests.payments.factories import wallet_regie

    wallet_regie()
    resident = ResidentFactory()
    basket = add_to_basket(buyer=resident.user, lines=[line(1500)], idempotency_key="a")
    client = logged_in(resident.user)
    response = client.post(
        reverse("payments:wallet", args=[resident.public_id]),
        {"amount": "20", "idempotency_key": "t-1"},
    )
    assert response.url == reverse("payments:basket")
    basket.refresh_from_db()
    assert basket.total_cents == 3500
    assert basket.lines.filter(handler="payments.wallet_topup").count() == 1
    pay(basket)
    assert queries.wallet_balance(resident.pk) == 2000


def test_the_basket_is_paid_from_the_wallet_which_closes_it(
    recorder, django_capture_on_commit_callbacks
):
    from tests.payments.factories import topped_up

    resident = ResidentFactory()
    topped_up(resident, 3000)
    basket = add_to_basket(buyer=resident.user, lines=[line(1500), line(700)], idempotency_key="a")
    client = logged_in(resident.user)
    checkout = reverse("payments:checkout", args=[basket.public_id])
    page = client.get(checkout).content.decode()
    assert "data-pay-with-wallet" in page
    assert f"Balance: {format_cents(3000)}" in page
    pay_url = reverse("payments:pay_with_wallet", args=[basket.public_id])
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(pay_url, {"attempt": 0, "total": 2200})
    assert client.post(pay_url, {"attempt": 0, "total": 2200}).url == answer.url  # double click
    basket.refresh_from_db()
    assert basket.status == Order.Status.PAID
    assert not basket.basket
    assert queries.wallet_balance(resident.pk) == 800
    assert sorted(recorder.fulfilled) == sorted(basket.lines.values_list("pk", flat=True))
    assert basket.documents.filter(kind="receipt").exists()
    # The next purchase opens a new basket.
    later = add_to_basket(buyer=resident.user, lines=[line(500)], idempotency_key="b")
    assert later.pk != basket.pk


def test_a_wallet_too_short_or_a_basket_changed_meanwhile_leaves_the_basket_open(recorder):
    from tests.payments.factories import topped_up

    resident = ResidentFactory()
    topped_up(resident, 1000)
    basket = add_to_basket(buyer=resident.user, lines=[line(1500)], idempotency_key="a")
    client = logged_in(resident.user)
    pay_url = reverse("payments:pay_with_wallet", args=[basket.public_id])
    short = client.post(pay_url, {"attempt": 0, "total": 1500}, follow=True)
    assert "The balance is insufficient" in short.content.decode()
    add_to_basket(buyer=resident.user, lines=[line(700)], idempotency_key="b")
    changed = client.post(pay_url, {"attempt": 0, "total": 1500}, follow=True)
    assert "Your basket changed" in changed.content.decode()
    basket.refresh_from_db()
    assert basket.basket
    assert basket.status == Order.Status.PENDING
    assert not basket.payments.exists()
    assert queries.wallet_balance(resident.pk) == 1000


def test_a_basket_holding_a_wallet_top_up_is_not_offered_the_wallet(recorder):
    from tests.payments.factories import topped_up

    resident = ResidentFactory()
    topped_up(resident, 5000)
    client = logged_in(resident.user)
    client.post(
        reverse("payments:wallet", args=[resident.public_id]),
        {"amount": "20", "idempotency_key": "t-1"},
    )
    basket = Order.objects.get(buyer=resident.user, basket=True)
    page = client.get(reverse("payments:checkout", args=[basket.public_id])).content.decode()
    assert "data-pay-with-wallet" not in page
    refused = client.post(
        reverse("payments:pay_with_wallet", args=[basket.public_id]),
        {"attempt": 0, "total": basket.total_cents},
        follow=True,
    )
    assert "A wallet top-up is not paid from the wallet." in refused.content.decode()
    basket.refresh_from_db()
    assert basket.basket
    assert not basket.payments.exists()
