"""Refunding a line whose entries were already used: the régisseur's page says how many were
used and proposes the unused part (pro rata of the entries, rounded down to the cent); more
than that is refunded only when the régisseur says so."""

import pytest
from django.urls import reverse

from payments import queries
from payments.fulfilment import Usage, register_fulfilment_handler
from payments.models import Refund
from tests.card.factories import logged_in
from tests.factories import ResidentFactory
from tests.payments.factories import Recorder, key, order_for, pay, regisseur

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("django_capture_on_commit_callbacks")]


def page(client, payment, **query):
    return client.get(reverse("payments:staff_payment", args=[payment.public_id]), query)


def test_the_page_warns_how_many_entries_were_used_and_proposes_the_unused_part(
    book_with_seven_entries_used, in_english
):
    payment = book_with_seven_entries_used
    line = payment.order.lines.get()
    client = logged_in(regisseur())
    html = page(client, payment).content.decode()
    assert "7 of the 10 entries of" in html
    assert "its unused part is 10,80\xa0€ (pro rata of the entries, rounded down" in html
    proposed = page(client, payment, unused=line.public_id).context["form"]
    assert proposed.initial["amount"] == "10,80"
    assert proposed.initial["lines"] == [str(line.pk)]


def test_refunding_more_than_the_unused_part_needs_saying_so(
    book_with_seven_entries_used, in_english
):
    payment = book_with_seven_entries_used
    line = payment.order.lines.get()
    client = logged_in(regisseur())
    url = reverse("payments:staff_payment", args=[payment.public_id])
    asked = {"amount": "36", "destination": "card", "reason": "Fermeture", "lines": [line.pk]}
    refused = client.post(url, {**asked, "idempotency_key": key()})
    assert refused.status_code == 200
    assert "7 of the 10 entries" in refused.content.decode()
    assert "Refund at most 10,80" in refused.content.decode()
    assert not Refund.objects.exists()
    unused = client.post(url, {**asked, "amount": "10,80", "idempotency_key": key()})
    assert unused.status_code == 302
    assert Refund.objects.get().amount_cents == 1080
    # The unused part given back, nothing more is proposed; the rest only when said so.
    assert queries.line_usage(payment.order.lines.get()).unused_cents == 0
    again = {**asked, "amount": "25,20", "idempotency_key": key()}
    assert client.post(url, again).status_code == 200
    assert client.post(url, {**again, "refund_used": "on"}).status_code == 302
    assert sum(Refund.objects.values_list("amount_cents", flat=True)) == 3600


@pytest.mark.parametrize(
    ("quantity", "unit", "used", "total", "unused"),
    [
        (1, 3600, 7, 10, 1080),  # exact
        (1, 1000, 1, 3, 666),  # 6,666… rounded down to the cent
        (2, 1000, 19, 20, 100),  # two books: 1 entry of 20 left
        (1, 1000, 12, 10, 0),  # more used than counted: nothing left
    ],
)
def test_the_unused_part_is_pro_rata_rounded_down_to_the_cent(quantity, unit, used, total, unused):
    register_fulfilment_handler(
        "test.book",
        fulfil=lambda line: None,
        undo=lambda line: None,
        usage=lambda line: Usage(used=used, total=total),
    )
    payment = pay(order_for(ResidentFactory(), unit, handler="test.book"))
    line = payment.order.lines.get()
    line.quantity = quantity
    line.fulfilled_at = payment.succeeded_at
    usage = queries.line_usage(line)
    assert (usage.used, usage.total, usage.unused_cents) == (min(used, total), total, unused)


def test_a_line_nothing_of_which_was_used_or_countable_has_no_warning(in_english):
    Recorder()  # no usage hook
    payment = pay(order_for(ResidentFactory(), 1500))
    line = payment.order.lines.get()
    line.fulfilled_at = payment.succeeded_at
    assert queries.line_usage(line) is None
    html = page(logged_in(regisseur()), payment).content.decode()
    assert "entries of" not in html
    assert 'name="refund_used"' not in html
