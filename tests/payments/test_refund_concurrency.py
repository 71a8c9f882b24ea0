"""Ten refunds of one payment asked at once (ten régisseurs, ten tabs, a form sent again), on
PostgreSQL: one refund, and every one of the ten pages says what happened — the refund made or
still at the provider, or why not (nothing left to refund, a refund already in progress).
Before, the requests arriving while the first refund waited for the card provider's answer got
a page saying nothing: the refund form, and the refusal attached to it, are not drawn once
nothing is left to refund. (The race the payment's row lock prevents is shown, with the lock
switched off, in test_payment_concurrency.py.)"""

import re
import threading
from collections.abc import Callable
from html import unescape

import pytest
from django.db import connection
from django.urls import reverse

from payments.models import Refund
from payments.providers import register_provider, unregister_provider
from payments.providers.demo import DemoProvider
from tests.card.factories import logged_in
from tests.factories import ResidentFactory
from tests.payments.factories import Recorder, order_for, pay, regisseur

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REFUNDS = 10
SHOWN = re.compile(r'<p class="message[^"]*">(.*?)</p>|<ul class="errorlist[^"]*">(.*?)</ul>', re.S)


def shown_messages(html: str) -> str:
    """What a page tells: its messages and the errors of its forms."""
    found = []
    for message, errors in SHOWN.findall(html):
        found.append(" ".join(unescape(re.sub(r"<[^>]+>", " ", message or errors)).split()))
    return " ".join(text for text in found if text)


class SlowProvider(DemoProvider):
    """A card provider that answers a refund only once `answered` is set (`at_provider` tells
    that a refund is waiting for it)."""

    at_provider = threading.Event()
    answered = threading.Event()

    def refund(self, *, refund) -> str:
        self.at_provider.set()
        self.answered.wait(timeout=20)
        return super().refund(refund=refund)


@pytest.fixture
def slow_provider():
    SlowProvider.at_provider = threading.Event()
    SlowProvider.answered = threading.Event()
    register_provider("demo", SlowProvider)
    yield SlowProvider
    SlowProvider.answered.set()
    unregister_provider("demo")


@pytest.fixture
def paid():
    Recorder()
    return pay(order_for(ResidentFactory(), 3000))


def refund_everything_at_once(
    payment, clients, keys, *, before: Callable[[int], None], after: Callable[[int], None]
) -> list[str]:
    """Each client posts, in its own thread, the refund of the whole payment under its key
    (`before(n)` and `after(n)` around it). One refund is made, every page answers (200): what
    each page says."""
    url = reverse("payments:staff_payment", args=[payment.public_id])
    answers: list = [None] * len(clients)

    def ask(n: int) -> None:
        try:
            before(n)
            response = clients[n].post(
                url,
                {
                    "amount": "30",
                    "destination": "card",
                    "reason": "Séance annulée",
                    "idempotency_key": keys[n],
                },
                follow=True,
            )
            answers[n] = (response.status_code, shown_messages(response.content.decode()))
            after(n)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [answer and answer[0] for answer in answers] == [200] * len(clients), answers
    assert Refund.objects.filter(payment=payment).count() == 1
    payment.refresh_from_db()
    assert payment.refunded_cents == 3000
    return [said for _status, said in answers]


def test_ten_refunds_at_the_same_instant_make_one_and_every_page_says_so(
    paid, slow_provider, in_english
):
    slow_provider.answered.set()  # the provider answers at once
    lined_up = threading.Barrier(REFUNDS)
    said = refund_everything_at_once(
        paid,
        [logged_in(regisseur()) for _ in range(REFUNDS)],
        [f"refund-{n}" for n in range(REFUNDS)],
        before=lambda n: lined_up.wait(timeout=20),
        after=lambda n: None,
    )
    assert all(said), said
    recorded = [text for text in said if text == "The refund of 30,00 € was recorded."]
    refused = [text for text in said if text not in recorded]
    assert len(recorded) == 1, said
    assert all(
        "Nothing is left to refund on this payment" in text
        or "A refund of 30,00 € of this payment is already in progress" in text
        for text in refused
    ), said


def test_refunds_arriving_while_the_first_waits_for_the_provider_are_told_so(
    paid, slow_provider, in_english
):
    """The first request's refund is booked and waits for the card provider; nine requests
    arrive meanwhile: the first form sent again twice (the same refund, in progress) and seven
    other régisseurs' (refused: a refund is in progress). The provider answers once the nine
    pages are drawn."""
    first_officer = regisseur()
    clients = [logged_in(first_officer) for _ in range(3)]
    clients += [logged_in(regisseur()) for _ in range(REFUNDS - 3)]
    keys = ["refund-0"] * 3 + [f"refund-{n}" for n in range(3, REFUNDS)]
    lined_up = threading.Barrier(REFUNDS - 1)
    all_answered = threading.Barrier(REFUNDS - 1, action=slow_provider.answered.set)

    def once_the_first_is_at_the_provider(n: int) -> None:
        if n > 0:
            slow_provider.at_provider.wait(timeout=20)
            lined_up.wait(timeout=20)

    def the_provider_answers_when_all_nine_did(n: int) -> None:
        if n > 0:
            all_answered.wait(timeout=20)

    said = refund_everything_at_once(
        paid,
        clients,
        keys,
        before=once_the_first_is_at_the_provider,
        after=the_provider_answers_when_all_nine_did,
    )
    assert all(said), said
    assert said[0] == "The refund of 30,00 € was recorded.", said
    for retry in said[1:3]:
        assert retry.startswith("The refund of 30,00 € is in progress"), said
    for other in said[3:]:
        assert other.startswith("A refund of 30,00 € of this payment is already in progress"), said
