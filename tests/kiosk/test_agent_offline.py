"""The agent deciding alone from a snapshot the server signed (docs/offline-readers.md §4):
the same answers the server would give, erring on the side of refusing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from card import snapshot as server_snapshot
from kiosk.agent.offline import OfflineGate
from services.catalog.models import AccessPoint, Entitlement
from tests.factories import (
    AccessPointFactory,
    CardFactory,
    EntitlementFactory,
    PassFactory,
    reader_with_token,
    sun_url,
)

pytestmark = pytest.mark.django_db


def gate_for(tmp_path, *, kind=AccessPoint.Kind.ENTRANCE) -> OfflineGate:
    reader, _token = reader_with_token(access_point=AccessPointFactory(kind=kind))
    gate = OfflineGate(tmp_path)
    gate.pin(server_snapshot.public_key_info())
    gate.accept_snapshot(server_snapshot.build_snapshot(reader=reader), now=timezone.now())
    return gate


def test_an_entry_book_is_spent_locally_then_refused(tmp_path):
    card = CardFactory()
    EntitlementFactory(holder=card.holder, entries=2)
    gate = gate_for(tmp_path)
    now = timezone.now()
    answers = [gate.decide(sun_url(card, counter), now=now) for counter in (1, 2, 3)]
    assert [(a.granted, a.reason) for a in answers] == [
        (True, "granted"),
        (True, "granted"),
        (False, "no_entitlement"),
    ]
    assert answers[0].first_name == card.holder.first_name


def test_a_pass_comes_first_and_is_not_spent(tmp_path):
    card = CardFactory()
    EntitlementFactory(holder=card.holder, entries=1)
    PassFactory(holder=card.holder)
    gate = gate_for(tmp_path)
    now = timezone.now()
    for counter in (1, 2, 3):
        decision = gate.decide(sun_url(card, counter), now=now)
        assert (decision.granted, decision.entitlement["kind"]) == (True, "pass")


def test_a_replayed_message_is_refused_also_after_a_restart(tmp_path):
    card = CardFactory(last_counter=4)
    PassFactory(holder=card.holder)
    gate = gate_for(tmp_path)
    now = timezone.now()
    assert gate.decide(sun_url(card, 4), now=now).reason == "replay"  # the server saw it
    assert gate.decide(sun_url(card, 5), now=now).granted
    restarted = OfflineGate(tmp_path)
    assert restarted.decide(sun_url(card, 5), now=now).reason == "replay"  # this gate saw it


def test_forged_unknown_suspended_and_expired(tmp_path):
    active = CardFactory()
    suspended = CardFactory(status="suspended")
    unknown = CardFactory.build(uid="04FFFFFFFFFFFF")
    gate = gate_for(tmp_path)
    now = timezone.now()
    url = sun_url(active, 1)
    forged = url[:-1] + ("0" if url[-1] != "0" else "1")
    assert gate.decide(forged, now=now).reason == "invalid_credential"
    assert gate.decide("https://example.org/?e=00&c=00", now=now).reason == "invalid_credential"
    assert gate.decide(sun_url(unknown, 1), now=now).reason == "unknown_card"
    assert gate.decide(sun_url(suspended, 1), now=now).reason == "card_suspended"
    assert gate.decide(url, now=now + timedelta(days=2)).reason == "snapshot_expired"


def test_an_exit_always_opens_and_a_desk_checks_without_spending(tmp_path):
    card = CardFactory()
    EntitlementFactory(holder=card.holder, entries=1)
    now = timezone.now()
    exit_gate = gate_for(tmp_path / "exit", kind=AccessPoint.Kind.EXIT)
    assert exit_gate.decide(sun_url(card, 1), now=now).reason == "exit"
    desk = gate_for(tmp_path / "desk", kind=AccessPoint.Kind.DESK)
    for counter in (1, 2):
        assert desk.decide(sun_url(card, counter), now=now).reason == "valid"


def test_without_a_snapshot_the_gate_fails_closed(tmp_path):
    decision = OfflineGate(tmp_path).decide(sun_url(CardFactory.build(), 1), now=timezone.now())
    assert (decision.granted, decision.reason) == (False, "snapshot_expired")


def _booking(holder, day, facility=None):
    return EntitlementFactory(
        holder=holder,
        kind=Entitlement.Kind.BOOKING,
        facility=facility,
        label="Stage de natation",
        valid_from=day,
        valid_until=day,
        entries_total=None,
        entries_left=None,
    )


def test_a_booking_opens_on_its_day_without_being_spent_and_before_the_entry_book(tmp_path):
    """Like decide: a pass, then a booking for the day (paid, not consumed), then entries. A
    lesson tomorrow is in tonight's snapshot: refused today, granted tomorrow."""
    reader, _token = reader_with_token(access_point=AccessPointFactory())
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    card = CardFactory()
    book = EntitlementFactory(holder=card.holder, entries=1)
    _booking(card.holder, noon.date() + timedelta(days=1), reader.access_point.facility)
    gate = OfflineGate(tmp_path)
    gate.pin(server_snapshot.public_key_info())
    gate.accept_snapshot(server_snapshot.build_snapshot(reader=reader, now=noon), now=noon)

    # Today only the entry book applies: spent once, then nothing left.
    first = gate.decide(sun_url(card, 1), now=noon)
    assert (first.granted, first.entitlement["kind"]) == (True, "entries")
    assert gate.decide(sun_url(card, 2), now=noon).reason == "no_entitlement"

    tomorrow = noon + timedelta(hours=22)  # still within the snapshot's 24 hours
    for counter in (3, 4, 5):
        decision = gate.decide(sun_url(card, counter), now=tomorrow)
        assert (decision.granted, decision.reason) == (True, "granted")
        assert decision.entitlement["kind"] == "booking"
        assert decision.entitlement["entries_left"] is None
    book.refresh_from_db()
    assert book.entries_left == 1  # offline, only the gate's copy was spent


def test_a_booking_comes_after_a_pass_and_is_checked_at_a_desk(tmp_path):
    reader, _token = reader_with_token(access_point=AccessPointFactory())
    desk, _token = reader_with_token(access_point=AccessPointFactory(kind=AccessPoint.Kind.DESK))
    now = timezone.localtime()
    card = CardFactory()
    _booking(card.holder, now.date())  # at every pool
    gate = OfflineGate(tmp_path / "gate")
    gate.pin(server_snapshot.public_key_info())
    gate.accept_snapshot(server_snapshot.build_snapshot(reader=reader, now=now), now=now)
    assert gate.decide(sun_url(card, 1), now=now).entitlement["kind"] == "booking"
    desk_gate = OfflineGate(tmp_path / "desk")
    desk_gate.pin(server_snapshot.public_key_info())
    desk_gate.accept_snapshot(server_snapshot.build_snapshot(reader=desk, now=now), now=now)
    assert desk_gate.decide(sun_url(card, 2), now=now).reason == "valid"

    PassFactory(holder=card.holder)
    later = now + timedelta(seconds=1)
    fresh = OfflineGate(tmp_path / "again")
    fresh.pin(server_snapshot.public_key_info())
    fresh.accept_snapshot(server_snapshot.build_snapshot(reader=reader, now=later), now=later)
    assert fresh.decide(sun_url(card, 3), now=later).entitlement["kind"] == "pass"
