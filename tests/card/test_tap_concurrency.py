"""Two readers presenting the same card at the same instant never spend two entries: real
concurrent HTTP requests to the live server, on PostgreSQL.

As in pretix, each guarantee is shown twice, with the two requests lined up by a
threading.Barrier at the same point of the pipeline: first with its lock switched off (the
race happens), then with the real code (the lock prevents it).

- the counter claim (one conditional UPDATE holding the card's row lock until the tap commits):
  the same message at two gates, the same tap id sent twice;
- the catalogue's row lock on the entitlement: a card and a phone pass of one person."""

import json
import threading
import urllib.error
import urllib.request
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from card.actions import taps
from card.credentials import phone_pass_payload
from card.models import Card, Tap
from services.catalog import actions as catalog_actions
from services.catalog.models import Entitlement
from tests.card.concurrency import count_decisions, lined_up, lined_up_claim, naive_claim
from tests.factories import (
    CardFactory,
    EntitlementFactory,
    PhonePassFactory,
    reader_with_token,
    sun_url,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SERVER_ERROR = {"status": 500}


def post_tap(base_url: str, token: str, credential: str, tap_id: str | None = None) -> dict:
    """The JSON answer, or SERVER_ERROR when the server failed."""
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
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 - live_server
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        if error.code != 500:
            raise
        return SERVER_ERROR


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


@pytest.fixture
def decisions(monkeypatch) -> list[int]:
    return count_decisions(monkeypatch)


# --- The counter claim --------------------------------------------------------------------------


def test_without_the_claim_the_same_message_is_spent_twice(live_server, two_gates, monkeypatch):
    monkeypatch.setattr(taps, "_claim_card_counter", naive_claim(threading.Barrier(2)))
    card = CardFactory()
    book = EntitlementFactory(holder=card.holder)
    message = sun_url(card, 1)
    answers = at_once(*(lambda t=t: post_tap(live_server.url, t, message) for t in two_gates))
    assert [a["granted"] for a in answers] == [True, True]
    book.refresh_from_db()
    assert book.entries_left == 8  # the race: two entries for one tap


def test_the_same_message_at_two_gates_at_once_is_spent_once(live_server, two_gates, monkeypatch):
    monkeypatch.setattr(taps, "_claim_card_counter", lined_up_claim(threading.Barrier(2)))
    card = CardFactory()
    book = EntitlementFactory(holder=card.holder)
    message = sun_url(card, 1)
    for _round in range(5):
        answers = at_once(
            *(lambda t=t, m=message: post_tap(live_server.url, t, m) for t in two_gates)
        )
        message = sun_url(card, Card.objects.get(pk=card.pk).last_counter + 1)
        assert sorted(a["reason"] for a in answers) == ["granted", "replay"]
    book.refresh_from_db()
    assert book.entries_left == 5
    assert Tap.objects.filter(granted=True).count() == 5


def one_tap_sent_twice_at_once(base_url: str) -> tuple[list[dict], Card, Entitlement]:
    """A reader sends the same tap (same id, same message) twice at once: it retried."""
    _reader, token = reader_with_token()
    card = CardFactory()
    book = EntitlementFactory(holder=card.holder)
    message = sun_url(card, 1)
    answers = at_once(
        *(lambda: post_tap(base_url, token, message, tap_id="retry") for _ in range(2))
    )
    book.refresh_from_db()
    return answers, card, book


def test_without_the_claim_a_tap_id_sent_twice_is_decided_twice(
    live_server, monkeypatch, decisions
):
    """Both copies get past a naive claim and are decided: the second spends an entry too,
    given back only because its tap row then collides with the first's (the unique tap id is
    the last line of defence, not the one the pipeline relies on)."""
    monkeypatch.setattr(taps, "_claim_card_counter", naive_claim(threading.Barrier(2)))
    answers, card, book = one_tap_sent_twice_at_once(live_server.url)
    assert decisions == [card.holder_id, card.holder_id]  # the race: decided twice
    assert answers[0] == answers[1]
    assert book.entries_left == 9


def test_the_same_tap_id_twice_at_once_gives_one_answer_and_one_entry(
    live_server, monkeypatch, decisions
):
    monkeypatch.setattr(taps, "_claim_card_counter", lined_up_claim(threading.Barrier(2)))
    answers, card, book = one_tap_sent_twice_at_once(live_server.url)
    assert decisions == [card.holder_id]  # the second copy waited for the first, then replayed
    assert answers[0] == answers[1]
    assert answers[0]["granted"] is True
    assert book.entries_left == 9
    assert Tap.objects.count() == 1


# --- The entitlement's row lock -------------------------------------------------------------


def card_and_phone_pass_at_once(base_url: str, two_gates) -> tuple[list[dict], Entitlement]:
    """One person's card at the first gate and their phone pass at the second, at once, with
    one entry left in their book."""
    card = CardFactory()
    phone = PhonePassFactory(holder=card.holder)
    book = EntitlementFactory(holder=card.holder, entries_left=1)
    first_token, second_token = two_gates
    answers = at_once(
        lambda: post_tap(base_url, first_token, sun_url(card, 1)),
        lambda: post_tap(base_url, second_token, phone_pass_payload(phone.number, timezone.now())),
    )
    book.refresh_from_db()
    return answers, book


def test_without_the_entitlement_lock_a_card_and_a_phone_pass_both_take_the_last_entry(
    live_server, two_gates, monkeypatch
):
    """Different credentials claim different card rows: only the catalogue's lock on the entry
    book serialises them. Without it both read "one left" and both grant; the second
    decrement then breaks the entries' CHECK, and that request fails."""
    # Every SELECT … FOR UPDATE becomes a plain read (as tests.concurrency.line_up does it).
    monkeypatch.setattr(type(connection.features), "has_select_for_update", False)
    barrier = threading.Barrier(2)
    real_choose = catalog_actions._choose_entitlement
    seen = []

    def choose_without_lock(**kwargs):
        candidate = real_choose(**kwargs)
        seen.append(candidate.entries_left)
        barrier.wait(timeout=10)  # both taps have read "one left"
        return candidate

    monkeypatch.setattr(catalog_actions, "_choose_entitlement", choose_without_lock)
    answers, book = card_and_phone_pass_at_once(live_server.url, two_gates)
    assert seen == [1, 1]  # the race: both chose the same last entry
    assert SERVER_ERROR in answers
    assert [a.get("reason") for a in answers if a != SERVER_ERROR] == ["granted"]
    assert book.entries_left == 0


def test_a_card_and_a_phone_pass_of_one_person_share_the_last_entry_once(
    live_server, two_gates, monkeypatch
):
    together = lined_up(catalog_actions._choose_entitlement, threading.Barrier(2))
    monkeypatch.setattr(catalog_actions, "_choose_entitlement", together)
    answers, book = card_and_phone_pass_at_once(live_server.url, two_gates)
    assert sorted(a["reason"] for a in answers) == ["granted", "no_entitlement"]
    assert book.entries_left == 0
