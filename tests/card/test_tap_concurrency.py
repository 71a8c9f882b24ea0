"""Two readers presenting the same card at the same instant never spend two entries: real
concurrent HTTP requests to the live server, on PostgreSQL. As in pretix, the first test shows
the race does happen when the counter claim is a naive read-then-write; the others, that the
real claim (one conditional UPDATE holding the card's row lock) and the entitlement row lock
prevent it."""

import json
import threading
import urllib.error
import urllib.request
import uuid

import pytest
from django.utils import timezone

from card.actions import taps
from card.credentials import phone_pass_payload
from card.models import Card, Tap
from tests.factories import (
    CardFactory,
    EntitlementFactory,
    PhonePassFactory,
    reader_with_token,
    sun_url,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def post_tap(base_url: str, token: str, credential: str, tap_id: str | None = None) -> dict:
    body = json.dumps(
        {
            "tap_id": tap_id or str(uuid.uuid4()),
            "credential": credential,
            "reader_time": timezone.now().isoformat(),
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - the live_server's own http URL
        f"{base_url}/api/v1/taps",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 - live_server
        return json.loads(response.read())


def at_once(*calls) -> list[dict]:
    """Run the calls in threads released together; answers in call order."""
    start = threading.Barrier(len(calls))
    answers: list = [None] * len(calls)

    def run(index, call):
        start.wait(timeout=10)
        answers[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return answers


@pytest.fixture
def two_gates():
    first, first_token = reader_with_token()
    _second, second_token = reader_with_token(access_point=first.access_point)
    return first_token, second_token


def naive_claim(barrier: threading.Barrier):
    """The bug the real claim avoids: read the counter, decide in Python, then write."""

    def claim(*, kind, key, counter):
        card = Card.objects.select_related("holder").get(uid=key)
        barrier.wait(timeout=10)  # both requests have read the old counter
        if counter <= card.last_counter:
            return None
        Card.objects.filter(pk=card.pk).update(last_counter=counter)
        return taps.ClaimedCard(
            card.pk,
            card.public_id,
            card.number,
            card.status,
            card.holder_id,
            card.expires_on,
            card.last_counter,
            card.holder.first_name,
        )

    return claim


def test_without_the_claim_the_same_message_is_spent_twice(live_server, two_gates, monkeypatch):
    monkeypatch.setattr(taps, "_claim_card_counter", naive_claim(threading.Barrier(2)))
    card = CardFactory()
    book = EntitlementFactory(holder=card.holder)
    message = sun_url(card, 1)
    answers = at_once(*(lambda t=t: post_tap(live_server.url, t, message) for t in two_gates))
    assert [a["granted"] for a in answers] == [True, True]
    book.refresh_from_db()
    assert book.entries_left == 8  # the race: two entries for one tap


def test_the_same_message_at_two_gates_at_once_is_spent_once(live_server, two_gates):
    card = CardFactory()
    book = EntitlementFactory(holder=card.holder)
    message = sun_url(card, 1)
    for _round in range(5):
        answers = at_once(
            *(lambda t=t, m=message: post_tap(live_server.url, t, m) for t in two_gates)
        )
        message = sun_url(card, card.__class__.objects.get(pk=card.pk).last_counter + 1)
        assert sorted(a["reason"] for a in answers) == ["granted", "replay"]
    book.refresh_from_db()
    assert book.entries_left == 5
    assert Tap.objects.filter(granted=True).count() == 5


def test_the_same_tap_id_twice_at_once_gives_one_answer_and_one_entry(live_server):
    _reader, token = reader_with_token()
    card = CardFactory()
    book = EntitlementFactory(holder=card.holder)
    message = sun_url(card, 1)
    answers = at_once(
        *(lambda: post_tap(live_server.url, token, message, tap_id="retry") for _ in range(2))
    )
    assert answers[0] == answers[1]
    assert answers[0]["granted"] is True
    book.refresh_from_db()
    assert book.entries_left == 9
    assert Tap.objects.count() == 1


def test_a_card_and_a_phone_pass_of_one_person_share_the_last_entry_once(live_server, two_gates):
    card = CardFactory()
    phone = PhonePassFactory(holder=card.holder)
    book = EntitlementFactory(holder=card.holder, entries_left=1)
    first_token, second_token = two_gates
    answers = at_once(
        lambda: post_tap(live_server.url, first_token, sun_url(card, 1)),
        lambda: post_tap(
            live_server.url, second_token, phone_pass_payload(phone.number, timezone.now())
        ),
    )
    assert sorted(a["reason"] for a in answers) == ["granted", "no_entitlement"]
    book.refresh_from_db()
    assert book.entries_left == 0
