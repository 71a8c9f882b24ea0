"""The tap at a gate: a credential is authenticated, its counter claimed, the catalogue
decides, the tap is logged, and the answer says why."""

from datetime import timedelta

import pytest
from django.utils import timezone

from card.actions.taps import process_tap
from card.credentials import phone_pass_payload
from card.models import Card, Tap
from identity.models import AuditEntry
from services.catalog.models import AccessPoint
from tests.factories import (
    AccessPointFactory,
    CardFactory,
    EntitlementFactory,
    PassFactory,
    PhonePassFactory,
    reader_with_token,
    sun_url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def gate():
    reader, _token = reader_with_token()
    return reader


def tap(reader, credential, tap_id="t-1", **kwargs):
    return process_tap(
        reader=reader,
        credential=credential,
        client_tap_id=tap_id,
        reader_time=kwargs.pop("reader_time", timezone.now()),
        **kwargs,
    )


def test_a_card_with_an_entry_book_is_let_in_and_one_entry_is_spent(gate):
    card = CardFactory()
    book = EntitlementFactory(holder=card.holder, entries_left=3)
    answer = tap(gate, sun_url(card, 1))
    assert answer["granted"] is True
    assert answer["reason"] == "granted"
    assert answer["entitlement"]["consumed"] == 1
    assert answer["entitlement"]["remaining"] == 2
    assert answer["holder"] == {"first_name": card.holder.first_name}  # a gate: no photo
    book.refresh_from_db()
    assert book.entries_left == 2
    logged = Tap.objects.get()
    assert (logged.granted, logged.card, logged.counter) == (True, card, 1)


def test_a_pass_comes_before_an_entry_book_and_consumes_nothing(gate):
    card = CardFactory()
    book = EntitlementFactory(holder=card.holder)
    PassFactory(holder=card.holder)
    answer = tap(gate, sun_url(card, 1))
    assert answer["granted"] is True
    assert answer["entitlement"]["consumed"] == 0
    book.refresh_from_db()
    assert book.entries_left == 10


def test_the_book_that_expires_first_is_used_first(gate):
    card = CardFactory()
    today = timezone.localdate()
    later = EntitlementFactory(holder=card.holder, valid_until=today + timedelta(days=200))
    sooner = EntitlementFactory(holder=card.holder, valid_until=today + timedelta(days=20))
    tap(gate, sun_url(card, 1))
    later.refresh_from_db()
    sooner.refresh_from_db()
    assert (sooner.entries_left, later.entries_left) == (9, 10)


def test_no_entitlement_for_this_kind_of_facility_is_refused(gate):
    card = CardFactory()
    EntitlementFactory(holder=card.holder, facility_kind="library")
    answer = tap(gate, sun_url(card, 1))
    assert (answer["granted"], answer["reason"]) == (False, "no_entitlement")


def test_an_expired_or_empty_entitlement_does_not_open(gate):
    card = CardFactory()
    today = timezone.localdate()
    EntitlementFactory(
        holder=card.holder,
        valid_from=today - timedelta(days=400),
        valid_until=today - timedelta(days=1),
    )
    EntitlementFactory(holder=card.holder, entries_left=0)
    assert tap(gate, sun_url(card, 1))["reason"] == "no_entitlement"


def test_the_same_message_twice_is_a_replay_and_consumes_nothing(gate):
    card = CardFactory()
    book = EntitlementFactory(holder=card.holder)
    message = sun_url(card, 5)
    assert tap(gate, message, tap_id="first")["granted"] is True
    cloned = tap(gate, message, tap_id="second")
    assert (cloned["granted"], cloned["reason"]) == (False, "replay")
    older = tap(gate, sun_url(card, 4), tap_id="third")
    assert older["reason"] == "replay"
    book.refresh_from_db()
    assert book.entries_left == 9
    assert AuditEntry.objects.filter(action="tap.refused.replay").count() == 2


def test_the_same_tap_id_returns_the_first_answer_and_consumes_nothing_more(gate):
    card = CardFactory()
    book = EntitlementFactory(holder=card.holder)
    first = tap(gate, sun_url(card, 1), tap_id="retry-me")
    again = tap(gate, sun_url(card, 1), tap_id="retry-me")
    # Even with a fresh message the retried id answers as the first time.
    fresh = tap(gate, sun_url(card, 2), tap_id="retry-me")
    assert first == again == fresh
    book.refresh_from_db()
    assert book.entries_left == 9
    assert Tap.objects.count() == 1


def test_tap_ids_are_per_reader(gate):
    card = CardFactory()
    EntitlementFactory(holder=card.holder)
    other, _token = reader_with_token(access_point=gate.access_point)
    assert tap(gate, sun_url(card, 1), tap_id="same")["granted"]
    assert tap(other, sun_url(card, 2), tap_id="same")["entitlement"]["remaining"] == 8


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (Card.Status.SUSPENDED, "card_suspended"),
        (Card.Status.REPLACED, "card_replaced"),
        (Card.Status.REVOKED, "card_revoked"),
        (Card.Status.EXPIRED, "card_expired"),
        (Card.Status.PRODUCED, "card_not_active"),
    ],
)
def test_a_card_that_is_not_active_is_refused_with_its_reason(gate, status, reason):
    card = CardFactory(status=status)
    EntitlementFactory(holder=card.holder)
    answer = tap(gate, sun_url(card, 1))
    assert (answer["granted"], answer["reason"]) == (False, reason)
    assert card.holder.entitlements.get().entries_left == 10


def test_a_card_past_its_expiry_date_is_refused_even_before_the_nightly_job(gate):
    card = CardFactory(expires_on=timezone.localdate() - timedelta(days=1))
    EntitlementFactory(holder=card.holder)
    assert tap(gate, sun_url(card, 1))["reason"] == "card_expired"


def test_a_forged_or_tampered_message_is_refused_and_audited(gate):
    card = CardFactory()
    EntitlementFactory(holder=card.holder)
    good = sun_url(card, 1)
    tampered = good[:-1] + ("0" if good[-1] != "0" else "1")
    answer = tap(gate, tampered, tap_id="forged")
    assert (answer["granted"], answer["reason"]) == (False, "invalid_credential")
    assert AuditEntry.objects.filter(action="tap.refused.invalid_credential").exists()
    # The genuine message still works: a forgery does not burn the counter.
    assert tap(gate, good, tap_id="genuine")["granted"] is True


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "hello",
        "https://x/c/?e=00&c=00",
        "S1.123.4.ABC",
        "x" * 5000,
        "https://x/c/?e=" + "G" * 32 + "&c=" + "0" * 16,
    ],
)
def test_malformed_credentials_are_refused_not_crashed(gate, garbage):
    answer = tap(gate, garbage)
    assert (answer["granted"], answer["reason"]) == (False, "invalid_credential")


def test_a_uid_alone_never_opens(gate):
    card = CardFactory()
    EntitlementFactory(holder=card.holder)
    assert tap(gate, card.uid)["reason"] == "invalid_credential"
    assert tap(gate, card.number)["reason"] == "invalid_credential"


def test_a_genuine_card_unknown_to_this_territory_is_refused(gate):
    stranger = CardFactory.build(uid="04FFFFFFFFFFFF")
    assert tap(gate, sun_url(stranger, 1))["reason"] == "unknown_card"


def test_a_big_jump_of_the_counter_is_flagged_for_staff(gate):
    card = CardFactory()
    PassFactory(holder=card.holder)
    assert tap(gate, sun_url(card, 1), tap_id="a")["flags"] == []
    jumped = tap(gate, sun_url(card, 60), tap_id="b")
    assert jumped["granted"] is True
    assert jumped["flags"] == ["counter_jump"]
    assert Tap.objects.get(client_tap_id="b").counter_jump


def test_an_exit_always_opens_and_consumes_nothing():
    exit_reader, _token = reader_with_token(
        access_point=AccessPointFactory(kind=AccessPoint.Kind.EXIT)
    )
    card = CardFactory()
    book = EntitlementFactory(holder=card.holder)
    assert tap(exit_reader, sun_url(card, 1))["reason"] == "exit"
    book.refresh_from_db()
    assert book.entries_left == 10


def test_a_desk_checks_without_consuming_and_sees_the_photo_reference():
    desk, _token = reader_with_token(
        access_point=AccessPointFactory(kind=AccessPoint.Kind.DESK), kind="desk"
    )
    card = CardFactory()
    book = EntitlementFactory(holder=card.holder)
    answer = tap(desk, sun_url(card, 1))
    assert (answer["granted"], answer["reason"]) == (True, "valid")
    assert answer["holder"]["photo"] == card.public_id
    book.refresh_from_db()
    assert book.entries_left == 10


class TestPhonePass:
    def test_a_fresh_code_opens_once(self, gate):
        phone = PhonePassFactory()
        EntitlementFactory(holder=phone.holder)
        code = phone_pass_payload(phone.number, timezone.now())
        assert tap(gate, code, tap_id="a")["granted"] is True
        # The same code shown again (a screenshot passed on) is a replay.
        assert tap(gate, code, tap_id="b")["reason"] == "replay"

    def test_a_code_older_than_a_minute_is_refused(self, gate):
        phone = PhonePassFactory()
        EntitlementFactory(holder=phone.holder)
        old = phone_pass_payload(phone.number, timezone.now() - timedelta(seconds=95))
        assert tap(gate, old)["reason"] == "expired_credential"

    def test_a_code_for_another_number_is_forged(self, gate):
        phone = PhonePassFactory()
        other = PhonePassFactory()
        code = phone_pass_payload(phone.number, timezone.now())
        forged = code.replace(phone.number, other.number)
        assert tap(gate, forged)["reason"] == "invalid_credential"


def test_an_offline_tap_the_server_cannot_honour_is_flagged(gate):
    card = CardFactory()
    EntitlementFactory(holder=card.holder, entries_left=0)
    answer = tap(
        gate,
        sun_url(card, 1),
        offline_granted=True,
        reader_time=timezone.now() - timedelta(hours=2),
    )
    assert answer["granted"] is False
    assert "not_honoured" in answer["flags"]
    assert Tap.objects.get().not_honoured


def test_a_late_offline_tap_below_the_last_counter_is_judged_not_called_a_replay(gate):
    """Counter 5 at an offline gate, then 6 at an online one; the offline gate uploads 5 later.
    It is the card's own message and was never seen: it is charged, not flagged."""
    card = CardFactory()
    book = EntitlementFactory(holder=card.holder)
    online, _token = reader_with_token(access_point=gate.access_point)
    offline_message = sun_url(card, 5)
    assert tap(online, sun_url(card, 6), tap_id="online")["granted"] is True
    late = tap(
        gate,
        offline_message,
        tap_id="late",
        offline_granted=True,
        reader_time=timezone.now() - timedelta(minutes=10),
    )
    assert (late["granted"], late["flags"]) == (True, [])
    book.refresh_from_db()
    assert book.entries_left == 8
    # Uploaded again under another id, or presented online: now it is a replay.
    again = tap(
        gate,
        offline_message,
        tap_id="late-2",
        offline_granted=True,
        reader_time=timezone.now() - timedelta(minutes=10),
    )
    assert (again["reason"], again["flags"]) == ("replay", ["not_honoured"])
    assert tap(online, offline_message, tap_id="clone")["reason"] == "replay"
    book.refresh_from_db()
    assert book.entries_left == 8


def test_a_tap_the_offline_gate_refused_consumes_nothing(gate):
    card = CardFactory()
    book = EntitlementFactory(holder=card.holder)
    answer = tap(
        gate,
        sun_url(card, 1),
        offline_granted=False,
        reader_time=timezone.now() - timedelta(minutes=3),
    )
    assert (answer["granted"], answer["reason"], answer["flags"]) == (False, "refused_offline", [])
    book.refresh_from_db()
    assert book.entries_left == 10
