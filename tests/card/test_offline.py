"""Offline gates: the signed snapshot a reader decides with, the batch upload of the taps it
queued, and the staff page of the entries the server could not honour."""

import base64
import hmac
import json
import threading
import uuid
from datetime import datetime, timedelta

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from card import credentials, keys, snapshot
from card.actions import taps as taps_module
from card.actions.offline import MAX_OFFLINE_BATCH, QueuedTap, replay_offline_taps
from card.actions.readers import revoke_reader
from card.actions.taps import MAX_READER_CLOCK_AHEAD, process_tap
from card.models import Card, Reader, Tap
from identity.errors import DomainError
from identity.models import AuditEntry, Facility, StaffRole
from ntag424 import sun
from services.catalog.models import AccessPoint, Entitlement
from tests.card.concurrency import count_decisions, lined_up_claim, naive_claim
from tests.factories import (
    CardFactory,
    EntitlementFactory,
    FacilityFactory,
    PassFactory,
    PhonePassFactory,
    ResidentFactory,
    bearer,
    post_tap,
    reader_with_token,
    staff_user,
    sun_url,
)

pytestmark = pytest.mark.django_db

SNAPSHOT_URL = "/api/v1/readers/snapshot"
SNAPSHOT_KEY_URL = "/api/v1/readers/snapshot-key"
BATCH_URL = "/api/v1/taps/batch"


# --- Helpers -----------------------------------------------------------------------------------


def get_snapshot(client, token: str) -> dict:
    response = client.get(SNAPSHOT_URL, headers=bearer(token))
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    return response.json()


def queued(credential: str, *, minutes_ago: float, granted: bool = True, tap_id=None) -> dict:
    return {
        "tap_id": tap_id or uuid.uuid4().hex,
        "credential": credential,
        "reader_time": (timezone.now() - timedelta(minutes=minutes_ago)).isoformat(),
        "offline_granted": granted,
    }


def upload(client, token: str, taps: list[dict]):
    return client.post(
        BATCH_URL,
        json.dumps({"taps": taps}),
        content_type="application/json",
        headers=bearer(token),
    )


def entries_left(entitlement: Entitlement) -> int:
    entitlement.refresh_from_db()
    return entitlement.entries_left


def by_number(payload: dict) -> dict:
    return {card["number"]: card for card in payload["cards"]}


# --- The snapshot ------------------------------------------------------------------------------


def test_the_snapshot_verifies_with_the_pinned_key_and_not_once_tampered(client):
    _reader, token = reader_with_token()
    EntitlementFactory(holder=CardFactory().holder)
    pinned = client.get(SNAPSHOT_KEY_URL)  # public: no token
    assert pinned.status_code == 200
    public_key = base64.b64decode(pinned.json()["public_key"])
    assert pinned.json()["key_id"] == keys.key_fingerprint()

    body = get_snapshot(client, token)
    assert body["key_id"] == pinned.json()["key_id"]
    signature = base64.b64decode(body["signature"])
    signed = json.dumps(
        body["payload"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    Ed25519PublicKey.from_public_bytes(public_key).verify(signature, signed)
    assert snapshot.verify_snapshot(body, public_key=public_key) == body["payload"]

    for index in (0, len(signed) // 2, len(signed) - 1):
        tampered = bytearray(signed)
        tampered[index] ^= 0x01
        with pytest.raises(InvalidSignature):
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature, bytes(tampered))
    forged = json.loads(json.dumps(body))
    forged["payload"]["cards"][0]["entitlements"][0]["entries_left"] = 99
    with pytest.raises(snapshot.InvalidSnapshot, match="bad_signature"):
        snapshot.verify_snapshot(forged, public_key=public_key)


def test_a_reader_refuses_an_expired_snapshot(client):
    _reader, token = reader_with_token()
    body = get_snapshot(client, token)
    payload = body["payload"]
    generated = datetime.fromisoformat(payload["generated_at"])
    valid_until = datetime.fromisoformat(payload["valid_until"])
    assert valid_until - generated == timedelta(hours=24)
    with pytest.raises(snapshot.InvalidSnapshot, match="expired"):
        snapshot.verify_snapshot(
            body, public_key=snapshot.public_key_bytes(), now=valid_until + timedelta(seconds=1)
        )


def test_an_active_card_comes_with_its_entitlements_and_the_key_that_checks_its_taps(client):
    reader, token = reader_with_token()
    card = CardFactory(last_counter=4)
    book = EntitlementFactory(holder=card.holder, entries=10)
    PassFactory(holder=card.holder)  # a pool pass: listed first, as decide picks it
    EntitlementFactory(holder=card.holder, facility_kind=Facility.Kind.LIBRARY)  # not for this gate
    payload = get_snapshot(client, token)["payload"]

    assert payload["access_point"]["id"] == reader.access_point.public_id
    assert payload["access_point"]["facility"]["kind"] == Facility.Kind.POOL
    assert payload["access_point"]["kind"] == AccessPoint.Kind.ENTRANCE
    entry = by_number(payload)[card.number]
    assert entry["uid"] == card.uid
    assert entry["last_counter"] == 4
    assert entry["first_name"] == card.holder.first_name
    assert card.holder.last_name not in json.dumps(payload, ensure_ascii=False)
    assert [(e["kind"], e["entries_left"]) for e in entry["entitlements"]] == [
        ("pass", None),
        ("entries", 10),
    ]
    assert entry["entitlements"][1] == {
        "kind": "entries",
        "label": book.label,
        "valid_from": book.valid_from.isoformat(),
        "valid_until": book.valid_until.isoformat(),
        "entries_left": 10,
    }

    # A gate with nothing but the snapshot authenticates a real tap of this card.
    cards_by_uid = {bytes.fromhex(c["uid"]): c for c in payload["cards"] if c["uid"]}
    verified = sun.verify_sun(
        sun_url(card, 5),
        meta_read_key=bytes.fromhex(payload["sdm_meta_read_key"]),
        file_read_key_for_uid=lambda uid: bytes.fromhex(cards_by_uid[uid]["sdm_file_read_key"]),
    )
    assert verified.uid.hex().upper() == card.uid
    assert verified.counter == 5
    # And a forged one (another card's key) does not pass.
    other = CardFactory()
    forged = sun.build_sun_url(
        "https://x/",
        meta_read_key=keys.meta_read_key(),
        file_read_key=keys.card_file_read_key(bytes.fromhex(other.uid)),
        uid=bytes.fromhex(card.uid),
        counter=6,
    )
    with pytest.raises(sun.InvalidSunMessage, match="bad_mac"):
        sun.verify_sun(
            forged,
            meta_read_key=bytes.fromhex(payload["sdm_meta_read_key"]),
            file_read_key_for_uid=lambda uid: bytes.fromhex(cards_by_uid[uid]["sdm_file_read_key"]),
        )


def test_a_phone_pass_comes_with_the_secret_that_checks_its_codes(client):
    _reader, token = reader_with_token()
    phone = PhonePassFactory()
    entry = by_number(get_snapshot(client, token)["payload"])[phone.number]
    assert "sdm_file_read_key" not in entry
    now = timezone.now()
    _prefix, number, step, code = credentials.phone_pass_payload(phone.number, now).split(".")
    mac = hmac.new(
        bytes.fromhex(entry["phone_pass_secret"]), int(step).to_bytes(8, "big"), "sha256"
    )
    assert number == phone.number
    assert base64.b32encode(mac.digest()[:10]).decode() == code


def test_cards_without_entitlement_are_listed_and_refused_cards_are_revoked(client):
    _reader, token = reader_with_token()
    without = CardFactory()
    suspended = CardFactory(status=Card.Status.SUSPENDED, suspended_at=timezone.now())
    replaced = CardFactory(status=Card.Status.REPLACED, ended_at=timezone.now() - timedelta(days=2))
    long_gone = CardFactory(
        status=Card.Status.REVOKED, ended_at=timezone.now() - timedelta(days=400)
    )
    out_of_date = CardFactory(expires_on=timezone.localdate() - timedelta(days=1))
    requested = CardFactory(status=Card.Status.REQUESTED)
    payload = get_snapshot(client, token)["payload"]

    cards = by_number(payload)
    assert cards[without.number]["entitlements"] == []  # the gate says no_entitlement
    revoked = {entry["number"]: entry for entry in payload["revoked"]}
    assert revoked[suspended.number] == {
        "number": suspended.number,
        "kind": "nfc",
        "uid": suspended.uid,
        "status": "suspended",
    }
    assert revoked[replaced.number]["status"] == "replaced"
    assert revoked[out_of_date.number]["status"] == "expired"
    for card in (suspended, replaced, out_of_date):
        assert card.number not in cards
    assert long_gone.number not in revoked  # beyond ENDED_CARDS_HORIZON
    assert requested.number not in cards
    assert requested.number not in revoked


def test_the_snapshot_never_holds_the_master_key(client):
    _reader, token = reader_with_token()
    EntitlementFactory(holder=CardFactory().holder)
    PhonePassFactory()
    body = get_snapshot(client, token)
    text = json.dumps(body, ensure_ascii=False).lower()
    raw = client.get(SNAPSHOT_URL, headers=bearer(token)).content.decode().lower()
    master = bytes.fromhex(settings.SESAME_CARD_MASTER_KEY)
    seed = keys.snapshot_signing_key().private_bytes_raw()
    for secret in (master, seed):
        for form in (secret.hex(), base64.b64encode(secret).decode()):
            assert form.lower() not in text
            assert form.lower() not in raw
    assert keys.meta_read_key().hex() in text  # the search does find keys that are there


def test_the_snapshot_costs_the_same_few_queries_for_50_cards(client, django_assert_num_queries):
    _reader, token = reader_with_token()
    for index in range(50):
        card = (PhonePassFactory if index % 5 == 0 else CardFactory)()
        EntitlementFactory(holder=card.holder)
    for _ in range(5):
        CardFactory(status=Card.Status.SUSPENDED)
    client.get(SNAPSHOT_URL, headers=bearer(token))  # the reader is now cached, seen
    # cards with first names, their entitlements, the refused cards, the audit entry
    with django_assert_num_queries(4):
        payload = get_snapshot(client, token)["payload"]
    assert len(payload["cards"]) == 50
    assert len(payload["revoked"]) == 5


def test_the_version_grows_and_changes_with_the_content(client, time_machine):
    _reader, token = reader_with_token()
    card = CardFactory()
    EntitlementFactory(holder=card.holder)
    time_machine.move_to(timezone.now())
    first = get_snapshot(client, token)["payload"]
    time_machine.shift(timedelta(seconds=5))
    same = get_snapshot(client, token)["payload"]
    assert same["version"] > first["version"]
    assert same["version"].split(".")[-1] == first["version"].split(".")[-1]  # nothing changed
    process_tap(
        reader=_reader, credential=sun_url(card, 1), client_tap_id="t1", reader_time=timezone.now()
    )
    time_machine.shift(timedelta(seconds=5))
    after = get_snapshot(client, token)["payload"]
    assert after["version"] > same["version"]
    assert after["version"].split(".")[-1] != same["version"].split(".")[-1]
    assert by_number(after)[card.number]["last_counter"] == 1
    assert by_number(after)[card.number]["entitlements"][0]["entries_left"] == 9
    issued = AuditEntry.objects.filter(action="reader.snapshot_issued").values_list(
        "reason", flat=True
    )
    assert after["version"] in issued


def test_a_kiosk_gets_no_snapshot(client):
    _kiosk, token = reader_with_token(kind=Reader.Kind.KIOSK)
    response = client.get(SNAPSHOT_URL, headers=bearer(token))
    assert response.status_code == 403
    assert "sdm" not in response.content.decode()
    _desk, desk_token = reader_with_token(kind=Reader.Kind.DESK)
    assert client.get(SNAPSHOT_URL, headers=bearer(desk_token)).status_code == 200


def test_the_snapshot_needs_a_live_reader_token(client):
    reader, token = reader_with_token()
    assert client.get(SNAPSHOT_URL).status_code == 401
    assert client.get(SNAPSHOT_URL, headers=bearer(token + "x")).status_code == 401
    assert client.get(SNAPSHOT_URL, headers=bearer(token)).status_code == 200
    revoke_reader(actor=staff_user(StaffRole.Role.ADMIN), reader=reader)
    assert client.get(SNAPSHOT_URL, headers=bearer(token)).status_code == 401
    assert upload(client, token, [queued("x", minutes_ago=1)]).status_code == 401


# --- The batch upload --------------------------------------------------------------------------


def test_taps_are_replayed_in_reader_time_order_and_answered_in_the_order_sent(client):
    _reader, token = reader_with_token()
    card = CardFactory()
    book = EntitlementFactory(holder=card.holder, entries=10)
    # Counters rise with time; sent out of order, the server must still see 1, 2, 3.
    taps = [
        queued(sun_url(card, 3), minutes_ago=10),
        queued(sun_url(card, 1), minutes_ago=30),
        queued(sun_url(card, 2), minutes_ago=20),
    ]
    response = upload(client, token, taps)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["tap_id"] for r in results] == [t["tap_id"] for t in taps]
    assert all(r["granted"] and r["honoured"] and r["reason"] == "granted" for r in results)
    assert entries_left(book) == 7
    stored = list(Tap.objects.order_by("pk").values_list("counter", "offline", "not_honoured"))
    assert stored == [(1, True, False), (2, True, False), (3, True, False)]


def test_an_entry_used_meanwhile_at_another_gate_is_not_honoured_and_shown_to_staff(client):
    facility = FacilityFactory(kind=Facility.Kind.POOL, name="Piscine de Cahors")
    online, _online_token = reader_with_token(facility=facility)
    _offline, token = reader_with_token(facility=facility)
    card = CardFactory()
    book = EntitlementFactory(holder=card.holder, entries=1)
    # The last entry goes at the online gate; the offline gate's snapshot still showed one.
    process_tap(
        reader=online,
        credential=sun_url(card, 1),
        client_tap_id="online-1",
        reader_time=timezone.now() - timedelta(minutes=20),
        now=timezone.now() - timedelta(minutes=20),
    )
    honoured = CardFactory(holder__first_name="Honorine")  # let in offline too, rightly
    EntitlementFactory(holder=honoured.holder, entries=5)
    response = upload(
        client,
        token,
        [queued(sun_url(card, 2), minutes_ago=10), queued(sun_url(honoured, 1), minutes_ago=9)],
    )
    first, second = response.json()["results"]
    assert (first["granted"], first["reason"], first["honoured"]) == (
        False,
        "no_entitlement",
        False,
    )
    assert (second["granted"], second["honoured"]) == (True, True)
    assert entries_left(book) == 0
    tap = Tap.objects.get(not_honoured=True)
    assert tap.offline
    assert tap.card_id == card.pk

    agent = staff_user(StaffRole.Role.POOL_AGENT, facility=facility)
    client.force_login(agent)
    page = client.get(reverse("card:offline_taps"))
    assert page.status_code == 200
    html = page.content.decode()
    assert card.number[-4:] in html
    assert card.number not in html
    assert card.holder.first_name in html
    assert "no_entitlement" in html
    assert "Honorine" not in html  # honoured taps are not listed
    assert html.count("<tr>") == 2  # the header and the one tap


def test_the_same_batch_twice_changes_nothing(client, django_assert_max_num_queries):
    _reader, token = reader_with_token()
    card = CardFactory()
    phone = PhonePassFactory()
    book = EntitlementFactory(holder=card.holder, entries=2)
    phone_book = EntitlementFactory(holder=phone.holder, entries=5)
    at = timezone.now() - timedelta(minutes=5)
    taps = [
        queued(sun_url(card, 1), minutes_ago=15),
        queued(sun_url(card, 2), minutes_ago=14),
        queued(sun_url(card, 3), minutes_ago=13),  # no entry left: not honoured
        queued(credentials.phone_pass_payload(phone.number, at), minutes_ago=5),
        queued(sun_url(card, 4), minutes_ago=12, granted=False),
        queued("https://sesame.example.fr/c/?e=00&c=00", minutes_ago=11),
        queued(sun_url(card, 9), minutes_ago=-30),  # in the future
    ]
    first = upload(client, token, taps).json()["results"]
    recorded = (Tap.objects.count(), AuditEntry.objects.count())
    with django_assert_max_num_queries(1):  # the answers already given, in one query
        second = upload(client, token, taps).json()["results"]
    assert second == first
    assert [(r["granted"], r["reason"], r["honoured"]) for r in first] == [
        (True, "granted", True),
        (True, "granted", True),
        (False, "no_entitlement", False),
        (True, "granted", True),
        (False, "refused_offline", True),
        (False, "invalid_credential", False),
        (False, "clock_skew", False),
    ]
    assert entries_left(book) == 0
    assert entries_left(phone_book) == 4
    assert recorded[0] == len(taps)
    assert (Tap.objects.count(), AuditEntry.objects.count()) == recorded


def test_a_tap_from_the_future_is_refused_alone(client):
    reader, token = reader_with_token()
    card = CardFactory()
    book = EntitlementFactory(holder=card.holder, entries=10)
    ahead = MAX_READER_CLOCK_AHEAD + timedelta(minutes=1)
    taps = [
        queued(sun_url(card, 1), minutes_ago=5),
        queued(sun_url(card, 2), minutes_ago=-ahead.total_seconds() / 60),
        queued(sun_url(card, 3), minutes_ago=-1),  # within the tolerated skew
    ]
    results = upload(client, token, taps).json()["results"]
    assert [(r["granted"], r["reason"], r["honoured"]) for r in results] == [
        (True, "granted", True),
        (False, "clock_skew", False),
        (True, "granted", True),
    ]
    assert entries_left(book) == 8
    skewed = Tap.objects.get(reason="clock_skew")
    assert skewed.not_honoured
    assert skewed.card_id == card.pk
    assert skewed.counter == 2
    assert (
        AuditEntry.objects.filter(
            action="tap.refused.clock_skew", target=f"reader:{reader.public_id}"
        ).count()
        == 1
    )


def test_a_tap_the_gate_refused_consumes_nothing(client):
    reader, token = reader_with_token()
    card = CardFactory()
    book = EntitlementFactory(holder=card.holder, entries=10)
    url = sun_url(card, 1)
    [result] = upload(client, token, [queued(url, minutes_ago=5, granted=False)]).json()["results"]
    assert result["granted"] is False
    assert result["reason"] == "refused_offline"
    assert result["honoured"] is True
    assert entries_left(book) == 10
    # The message is spent all the same: presented again, it is a replay.
    again = process_tap(
        reader=reader, credential=url, client_tap_id="again", reader_time=timezone.now()
    )
    assert again["reason"] == "replay"


def test_a_suspended_card_let_in_offline_is_not_honoured(client):
    _reader, token = reader_with_token()
    card = CardFactory(status=Card.Status.SUSPENDED, suspended_at=timezone.now())
    EntitlementFactory(holder=card.holder)
    [result] = upload(client, token, [queued(sun_url(card, 1), minutes_ago=5)]).json()["results"]
    assert (result["granted"], result["reason"], result["honoured"]) == (
        False,
        "card_suspended",
        False,
    )


def _loc_names(response) -> set[str]:
    return {str(part) for error in response.json()["detail"] for part in error["loc"]}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda taps: {"taps": taps * 501}, "taps"),
        (lambda taps: {"taps": []}, "taps"),
        (lambda taps: {"taps": "all of them"}, "taps"),
        (lambda taps: {}, "taps"),
        (lambda taps: {"taps": [{**taps[0], "tap_id": "a b"}]}, "tap_id"),
        (lambda taps: {"taps": [{**taps[0], "tap_id": "x" * 65}]}, "tap_id"),
        (lambda taps: {"taps": [{**taps[0], "reader_time": "2026-03-14T10:00:00"}]}, "reader_time"),
        (lambda taps: {"taps": [{**taps[0], "reader_time": "yesterday"}]}, "reader_time"),
        (
            lambda taps: {"taps": [{k: v for k, v in taps[0].items() if k != "offline_granted"}]},
            "offline_granted",
        ),
        (lambda taps: {"taps": [{**taps[0], "credential": "x" * 1025}]}, "credential"),
    ],
)
def test_a_malformed_batch_is_refused_whole_naming_the_field(client, change, field):
    _reader, token = reader_with_token()
    card = CardFactory()
    book = EntitlementFactory(holder=card.holder)
    body = change([queued(sun_url(card, 1), minutes_ago=1)])
    response = client.post(
        BATCH_URL, json.dumps(body), content_type="application/json", headers=bearer(token)
    )
    assert response.status_code == 422
    assert field in _loc_names(response)
    assert Tap.objects.count() == 0
    assert entries_left(book) == 10


@pytest.mark.parametrize("reader_time", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"])
def test_a_queued_tap_time_out_of_range_is_a_422_naming_the_field(reader_time):
    _reader, token = reader_with_token()
    card = CardFactory()
    tap = {**queued(sun_url(card, 1), minutes_ago=1), "reader_time": reader_time}
    response = upload(Client(raise_request_exception=False), token, [tap])
    assert response.status_code == 422
    assert "reader_time" in [error["loc"][-1] for error in response.json()["detail"]]
    assert not Tap.objects.exists()


def test_the_batch_limit_is_500(client):
    _reader, token = reader_with_token()
    taps = [queued("not a card", minutes_ago=1) for _ in range(MAX_OFFLINE_BATCH)]
    response = upload(client, token, taps)
    assert response.status_code == 200
    assert len(response.json()["results"]) == 500
    with pytest.raises(DomainError, match="500") as error:
        replay_offline_taps(
            reader=_reader,
            taps=[QueuedTap("t", "x", timezone.now(), True)] * 501,
        )
    assert error.value.field == "taps"


# --- The staff page ----------------------------------------------------------------------------


def _not_honoured_tap_at(facility: Facility, client, *, first_name: str = "Inès") -> Card:
    _reader, token = reader_with_token(facility=facility)
    # No entitlement: the server refuses what the gate let in.
    card = CardFactory(holder__first_name=first_name)
    upload(client, token, [queued(sun_url(card, 1), minutes_ago=5)])
    return card


def test_staff_see_the_taps_of_their_facilities_only(client):
    pool = FacilityFactory(kind=Facility.Kind.POOL, name="Piscine Nord")
    other_pool = FacilityFactory(kind=Facility.Kind.POOL, name="Piscine Sud")
    mine = _not_honoured_tap_at(pool, client)
    theirs = _not_honoured_tap_at(other_pool, client)
    client.force_login(staff_user(StaffRole.Role.POOL_AGENT, facility=pool))
    html = client.get(reverse("card:offline_taps")).content.decode()
    assert mine.number[-4:] in html
    assert mine.holder.first_name in html
    assert theirs.number[-4:] not in html
    url = reverse("card:offline_taps")
    assert client.get(url, {"facility": other_pool.public_id}).status_code == 403


def test_town_wide_attendance_sees_all_and_filters_by_facility(client):
    north = FacilityFactory(kind=Facility.Kind.POOL, name="Piscine Nord")
    south = FacilityFactory(kind=Facility.Kind.POOL, name="Piscine Sud")
    first = _not_honoured_tap_at(north, client, first_name="Gaspard")
    second = _not_honoured_tap_at(south, client, first_name="Zélie")
    client.force_login(staff_user(StaffRole.Role.POOL_AGENT))  # no facility: town-wide
    url = reverse("card:offline_taps")
    html = client.get(url).content.decode()
    assert html.index(second.holder.first_name) < html.index(first.holder.first_name)  # newest
    filtered = client.get(url, {"facility": north.public_id}).content.decode()
    assert first.number[-4:] in filtered
    assert second.number[-4:] not in filtered


@pytest.mark.parametrize("who", ["resident", "clerk", "anonymous"])
def test_others_do_not_see_the_page(client, who):
    if who == "resident":
        client.force_login(ResidentFactory().user)
    elif who == "clerk":
        client.force_login(staff_user(StaffRole.Role.CLERK))
    response = client.get(reverse("card:offline_taps"))
    if who == "anonymous":
        assert response.status_code == 302
        assert "login" in response.url
    else:
        assert response.status_code == 403


# --- Concurrency (PostgreSQL) ------------------------------------------------------------------


def a_batch_with_its_books() -> tuple[Reader, list[QueuedTap], list[Entitlement]]:
    """Two taps of each of three cards, a phone pass tap, and the first tap id again, each
    card and pass with a book of 10 entries (the phone pass's last)."""
    reader, _token = reader_with_token()
    cards = [CardFactory() for _ in range(3)]
    books = [EntitlementFactory(holder=card.holder, entries=10) for card in cards]
    phone = PhonePassFactory()
    books.append(EntitlementFactory(holder=phone.holder, entries=10))
    now = timezone.now()
    taps = [
        QueuedTap(f"a{i}-{n}", sun_url(card, n), now - timedelta(minutes=30 - n), True)
        for i, card in enumerate(cards)
        for n in (1, 2)
    ]
    taps.append(
        QueuedTap(
            "p1",
            credentials.phone_pass_payload(phone.number, now - timedelta(minutes=1)),
            now - timedelta(minutes=1),
            True,
        )
    )
    taps.append(taps[0])  # a tap id twice in the same batch
    return reader, taps, books


def upload_twice_at_once(reader: Reader, taps: list[QueuedTap]) -> list:
    """The same batch from the same reader twice at once (it missed the first answer), each
    upload in its own thread and connection; a batch commits tap by tap, as in production
    (tests.concurrency.run_at_once would wrap each upload in one transaction)."""
    start = threading.Barrier(2)
    results: list = [None, None]
    errors: list = []

    def send(slot: int):
        try:
            start.wait(timeout=10)
            results[slot] = replay_offline_taps(reader=reader, taps=taps)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_without_the_claim_a_batch_uploaded_twice_at_once_is_judged_twice(monkeypatch):
    """Each tap of both uploads gets past a naive claim and is decided: the second upload
    spends an entry for each tap too, given back only because its tap rows then collide with
    the first's (the unique tap id is the last line of defence)."""
    monkeypatch.setattr(taps_module, "_claim_card_counter", naive_claim(threading.Barrier(2)))
    decisions = count_decisions(monkeypatch)
    reader, taps, books = a_batch_with_its_books()
    first, second = upload_twice_at_once(reader, taps)
    assert len(decisions) == 2 * 7  # the race: every tap decided by both uploads
    assert first == second
    assert [entries_left(book) for book in books] == [8, 8, 8, 9]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_batch_uploaded_twice_at_once_spends_each_entry_once(monkeypatch):
    monkeypatch.setattr(taps_module, "_claim_card_counter", lined_up_claim(threading.Barrier(2)))
    decisions = count_decisions(monkeypatch)
    reader, taps, books = a_batch_with_its_books()
    first, second = upload_twice_at_once(reader, taps)
    assert len(decisions) == 7  # each tap decided once: the other upload waited, then replayed
    assert first == second
    assert all(result["granted"] for result in first), first
    assert [entries_left(book) for book in books] == [8, 8, 8, 9]
    assert Tap.objects.count() == 7
    assert Tap.objects.filter(not_honoured=True).count() == 0


def test_snapshot_helpers_are_pure():
    """The canonical form is the one the issue names, and the public key matches the signer."""
    payload = {"b": "é", "a": [1, {"d": None, "c": True}]}
    assert snapshot.canonical_json(payload) == '{"a":[1,{"c":true,"d":null}],"b":"é"}'.encode()
    public = keys.snapshot_signing_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert snapshot.public_key_bytes() == public
    assert snapshot.public_key_info()["public_key"] == base64.b64encode(public).decode()


def test_a_counter_jump_is_listed_for_staff_with_the_offline_taps(client):
    reader, token = reader_with_token()
    card = CardFactory()
    PassFactory(holder=card.holder)
    post_tap(client, token, credential=sun_url(card, 1))
    post_tap(client, token, credential=sun_url(card, 80))  # 78 taps the server never saw
    agent = staff_user("pool_agent", facility=reader.access_point.facility)
    client.force_login(agent)
    page = client.get(reverse("card:offline_taps")).content.decode()
    assert card.number[-4:] in page
    assert "counter_jump" in page


def _local_noon():
    return timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)


def test_bookings_of_this_facility_in_the_snapshots_window_come_after_passes(client):
    """A lesson booked for today or tomorrow (the snapshot lives 24 hours) at this pool, or at
    every pool, is listed between the passes and the entry books, as decide ranks them; a
    booking at another pool, or past the snapshot's window, is not."""
    reader, _token = reader_with_token()
    facility = reader.access_point.facility
    card = CardFactory()
    holder = card.holder
    noon = _local_noon()
    today = noon.date()

    def booking(day, *, at=facility, label="Stage de natation"):
        return EntitlementFactory(
            holder=holder,
            kind=Entitlement.Kind.BOOKING,
            facility=at,
            label=label,
            valid_from=day,
            valid_until=day,
            entries_total=None,
            entries_left=None,
        )

    EntitlementFactory(holder=holder, entries=5)
    booking(today + timedelta(days=1), label="demain")
    booking(today, label="aujourd'hui")
    booking(today, at=None, label="toutes piscines")
    booking(today, at=FacilityFactory(kind=Facility.Kind.POOL), label="autre piscine")
    booking(today + timedelta(days=3), label="trop tard")
    booking(today - timedelta(days=1), label="hier")
    PassFactory(holder=holder)
    EntitlementFactory(holder=holder, facility=FacilityFactory(), entries=3)  # another pool's

    payload = snapshot.build_snapshot(reader=reader, now=noon)["payload"]
    listed = by_number(payload)[card.number]["entitlements"]
    assert [(e["kind"], e["label"]) for e in listed] == [
        ("pass", "Pass annuel piscines"),
        ("booking", "aujourd'hui"),
        ("booking", "toutes piscines"),
        ("booking", "demain"),
        ("entries", "Carnet 10 entrées"),
    ]
    tomorrow = next(e for e in listed if e["label"] == "demain")
    assert tomorrow == {
        "kind": "booking",
        "label": "demain",
        "valid_from": (today + timedelta(days=1)).isoformat(),
        "valid_until": (today + timedelta(days=1)).isoformat(),
        "entries_left": None,
    }


def test_a_revoked_booking_is_not_in_the_snapshot():
    reader, _token = reader_with_token()
    card = CardFactory()
    EntitlementFactory(
        holder=card.holder,
        kind=Entitlement.Kind.BOOKING,
        facility=reader.access_point.facility,
        valid_from=_local_noon().date(),
        valid_until=_local_noon().date(),
        entries_total=None,
        entries_left=None,
        revoked_at=timezone.now(),
    )
    payload = snapshot.build_snapshot(reader=reader, now=_local_noon())["payload"]
    assert by_number(payload)[card.number]["entitlements"] == []
