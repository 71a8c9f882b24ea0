"""A card's life as residents and town-hall clerks live it, through the pages: requested with a
photo, validated, produced on a chip, handed over, reported lost, refused at the gate. And the
sensitive production steps the clerk's desk relies on (the personalisation export, the look-up
by number)."""

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from card import credentials, keys
from card.actions.numbers import look_up_card, luhn_check_digit
from card.actions.personalisation import export_personalisation
from card.actions.taps import process_tap
from card.models import Card, Tap
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import AuditEntry
from ntag424 import sun
from tests.card.factories import child_of, clerk, logged_in, new_photo
from tests.factories import (
    CardFactory,
    PassFactory,
    PhonePassFactory,
    ResidentFactory,
    chip_url,
    reader_with_token,
)

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
UID = "04A1B2C3D4E5F6"
KNOWN_NUMBER = "925012345678901" + luhn_check_digit("925012345678901")
SLIPPED_NUMBER = KNOWN_NUMBER[:5] + str((int(KNOWN_NUMBER[5]) + 1) % 10) + KNOWN_NUMBER[6:]
UNKNOWN_NUMBER = "925099999999999" + luhn_check_digit("925099999999999")


def _tap(reader, url: str) -> dict:
    return process_tap(
        reader=reader,
        credential=url,
        client_tap_id=f"tap-{Tap.objects.count() + 1}",
        reader_time=timezone.now(),
    )


def test_a_card_goes_from_request_to_gate_and_is_refused_once_its_holder_reports_it_lost():
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=PARIS), tick=False):
        camille = ResidentFactory(first_name="Camille", last_name="Martin")
        resident = logged_in(camille.user)
        desk = logged_in(clerk())

        # The resident asks for a card with a new photo, which goes into their documents.
        response = resident.post(reverse("card:request", args=[camille.public_id]), new_photo())
        assert response.status_code == 302
        card = Card.objects.get(holder=camille)
        assert card.status == Card.Status.REQUESTED
        assert card.kind == Card.Kind.NFC

        # The clerk sees the request and its photo (shared with it) in the queue, and
        # validates it: the card keeps its own copy of the photo.
        photo_url = reverse("documents_vault:shared_file", args=[card.photo_share_id])
        queue = desk.get(reverse("card:clerk_home")).content.decode()
        assert photo_url in queue
        assert "Martin Camille" in queue
        assert desk.get(photo_url).status_code == 200
        response = desk.post(
            reverse("card:clerk_review", args=[card.public_id]), {"decision": "approve"}
        )
        assert response.status_code == 302
        card.refresh_from_db()
        assert card.status == Card.Status.VALIDATED
        assert card.photo.name.endswith(".jpg")
        assert desk.get(reverse("card:photo", args=[card.public_id])).status_code == 200

        # The encoding station reads the blank chip's UID; the clerk records it.
        response = desk.post(
            reverse("card:clerk_produce", args=[card.public_id]), {"uid": "04:a1:b2:c3:d4:e5:f6"}
        )
        assert response.status_code == 302
        card.refresh_from_db()
        assert card.status == Card.Status.PRODUCED
        assert card.uid == UID
        assert card.expires_on == date(2032, 3, 2)

        # Print the face, export the chip's data, hand the card over.
        face = desk.get(reverse("card:clerk_card_face", args=[card.public_id]))
        assert face.status_code == 200
        assert face["Content-Type"] == "application/pdf"
        assert face.content.startswith(b"%PDF")
        export = desk.post(reverse("card:clerk_personalisation", args=[card.public_id]))
        assert export.status_code == 200
        data = json.loads(export.content)
        assert data["uid"] == UID
        assert data["card_number"] == card.number
        response = desk.post(reverse("card:clerk_activate", args=[card.public_id]))
        assert response.status_code == 302
        card.refresh_from_db()
        assert card.status == Card.Status.ACTIVE

        # The chip, encoded with the exported keys, opens the pool gate.
        reader, _token = reader_with_token()
        PassFactory(holder=camille)
        first_tap = sun.build_sun_url(
            data["ndef_url_template"].split("?")[0],
            meta_read_key=bytes.fromhex(data["sdm_meta_read_key"]),
            file_read_key=bytes.fromhex(data["sdm_file_read_key"]),
            uid=bytes.fromhex(data["uid"]),
            counter=1,
        )
        assert _tap(reader, first_tap)["granted"] is True

        # Lost: one click (after the confirmation) on Mes cartes.
        confirmation = resident.get(reverse("card:suspend", args=[card.public_id]))
        assert confirmation.status_code == 200
        response = resident.post(reverse("card:suspend", args=[card.public_id]), {"reason": "lost"})
        assert response.status_code == 302
        card.refresh_from_db()
        assert card.status == Card.Status.SUSPENDED
        assert card.suspension_reason == "lost"

        # The next tap is refused, and the refusal is logged.
        answer = _tap(reader, chip_url(UID, 2))
        assert answer["granted"] is False
        assert answer["reason"] == "card_suspended"
        assert Tap.objects.filter(card=card, reason="card_suspended").exists()

    actions_by_order = list(
        AuditEntry.objects.filter(action__startswith="card.", person=camille)
        .order_by("at", "pk")
        .values_list("action", flat=True)
    )
    assert actions_by_order == [
        "card.requested",
        "card.validated",
        "card.produced",
        "card.personalisation_exported",
        "card.activated",
        "card.suspended",
    ]
    # The clerk's reads of the photo: in the queue, then once more on validation.
    photo_reads = AuditEntry.objects.filter(action="staff.document_read", person=camille)
    assert photo_reads.count() == 2
    assert AuditEntry.objects.get(action="staff.card_photo_viewed").person == camille


def test_a_guardian_takes_a_childs_card_through_its_whole_life():
    camille = ResidentFactory(first_name="Camille", last_name="Martin")
    lea = child_of(camille, first_name="Léa")
    resident = logged_in(camille.user)
    desk = logged_in(clerk())

    resident.post(reverse("card:request", args=[lea.public_id]), new_photo())
    card = Card.objects.get(holder=lea)
    assert card.requested_by == camille.user
    desk.post(reverse("card:clerk_review", args=[card.public_id]), {"decision": "approve"})
    desk.post(reverse("card:clerk_produce", args=[card.public_id]), {"uid": UID})
    desk.post(reverse("card:clerk_activate", args=[card.public_id]))
    card.refresh_from_db()
    assert card.status == Card.Status.ACTIVE

    page = resident.get(reverse("card:my_cards")).content.decode()
    assert "Léa" in page
    assert reverse("card:suspend", args=[card.public_id]) in page

    resident.post(reverse("card:suspend", args=[card.public_id]), {"reason": "lost"})
    resident.post(reverse("card:reactivate", args=[card.public_id]))
    card.refresh_from_db()
    assert card.status == Card.Status.ACTIVE

    resident.post(reverse("card:replace", args=[card.public_id]))
    card.refresh_from_db()
    assert card.status == Card.Status.REPLACED
    new = Card.objects.get(replaces=card)
    assert new.holder == lea
    assert new.status == Card.Status.VALIDATED  # straight to production, same photo
    assert new.photo.name == card.photo.name


def test_a_stolen_card_is_unblocked_only_at_the_town_hall():
    camille = ResidentFactory()
    card = CardFactory(holder=camille)
    resident = logged_in(camille.user)
    resident.post(reverse("card:suspend", args=[card.public_id]), {"reason": "stolen"})
    card.refresh_from_db()
    assert card.status == Card.Status.SUSPENDED

    # No "unblock" button for a stolen card; forcing the request is refused with a message.
    assert reverse("card:reactivate", args=[card.public_id]) not in (
        resident.get(reverse("card:my_cards")).content.decode()
    )
    response = resident.post(reverse("card:reactivate", args=[card.public_id]), follow=True)
    assert response.status_code == 200
    assert "only be reactivated at the town hall" in response.content.decode()
    card.refresh_from_db()
    assert card.status == Card.Status.SUSPENDED

    desk = logged_in(clerk())
    desk.post(reverse("card:clerk_reactivate", args=[card.public_id]))
    card.refresh_from_db()
    assert card.status == Card.Status.ACTIVE


def test_the_clerk_suspends_replaces_and_revokes_at_the_counter():
    card = CardFactory()
    desk = logged_in(clerk())

    desk.post(reverse("card:clerk_suspend", args=[card.public_id]), {"reason": "damaged"})
    card.refresh_from_db()
    assert (card.status, card.suspension_reason) == (Card.Status.SUSPENDED, "damaged")

    response = desk.post(reverse("card:clerk_replace", args=[card.public_id]))
    new = Card.objects.get(replaces=card)
    assert response.url == reverse("card:clerk_card", args=[new.public_id])

    new.refresh_from_db()
    assert new.status == Card.Status.VALIDATED
    assert card.holder == new.holder

    # The replacement has no chip yet: it can still be cancelled for good.
    response = desk.post(reverse("card:clerk_revoke", args=[new.public_id]), {"reason": "Erreur"})
    assert response.status_code == 302
    new.refresh_from_db()
    assert new.status == Card.Status.REVOKED
    assert new.uid is None


def test_a_revocation_needs_a_reason_and_is_audited_at_the_counter():
    card = CardFactory()
    desk = logged_in(clerk())

    response = desk.post(reverse("card:clerk_revoke", args=[card.public_id]), {"reason": ""})
    assert response.status_code == 200
    assert response.context["revoke_form"].errors["reason"]
    card.refresh_from_db()
    assert card.status == Card.Status.ACTIVE

    desk.post(reverse("card:clerk_revoke", args=[card.public_id]), {"reason": "Fraude avérée"})
    card.refresh_from_db()
    assert card.status == Card.Status.REVOKED
    entry = AuditEntry.objects.get(action="card.revoked")
    assert (entry.reason, entry.channel) == ("Fraude avérée", AuditEntry.Channel.COUNTER)


def test_a_rejected_request_needs_a_reason_and_then_ends_the_request():
    card = CardFactory(status=Card.Status.REQUESTED, uid=None, expires_on=None)
    desk = logged_in(clerk())

    response = desk.post(
        reverse("card:clerk_review", args=[card.public_id]), {"decision": "reject", "reason": ""}
    )
    assert response.status_code == 200
    assert response.context["review_form"].errors["reason"] == ["Say why the request is rejected."]
    card.refresh_from_db()
    assert card.status == Card.Status.REQUESTED

    desk.post(
        reverse("card:clerk_review", args=[card.public_id]),
        {"decision": "reject", "reason": "Photo floue"},
    )
    card.refresh_from_db()
    assert card.status == Card.Status.REJECTED
    assert AuditEntry.objects.get(action="card.rejected").reason == "Photo floue"

    # The resident sees why, and may ask again.
    page = logged_in(card.holder.user).get(reverse("card:my_cards")).content.decode()
    assert "Photo floue" in page
    assert reverse("card:request", args=[card.holder.public_id]) in page


# --- The personalisation export --------------------------------------------------------------


def test_the_personalisation_export_gives_the_station_what_a_genuine_chip_needs(settings):
    settings.SESAME_CARD_URL = "https://sesame.example.fr/c/"
    card = CardFactory(status=Card.Status.PRODUCED, uid=UID)
    data = export_personalisation(actor=clerk(), card=card)

    template = data["ndef_url_template"]
    assert template == "https://sesame.example.fr/c/?e=" + "0" * 32 + "&c=" + "0" * 16
    assert template[data["picc_data_offset_in_url"] :].startswith("0" * 32 + "&c=")
    assert template[data["sdm_mac_offset_in_url"] :] == "0" * 16
    assert data["key_version"] == card.key_version
    assert data["sdm_file_read_key"] == keys.card_file_read_key(bytes.fromhex(UID)).hex().upper()
    assert data["sdm_meta_read_key"] == keys.meta_read_key().hex().upper()

    # A chip written with these keys and this template emits what the server accepts.
    emitted = sun.build_sun_url(
        "https://sesame.example.fr/c/",
        meta_read_key=bytes.fromhex(data["sdm_meta_read_key"]),
        file_read_key=bytes.fromhex(data["sdm_file_read_key"]),
        uid=bytes.fromhex(UID),
        counter=7,
    )
    assert len(emitted) == len(template)
    presented = credentials.read(emitted, at=timezone.now())
    assert (presented.uid, presented.counter) == (UID, 7)


def test_the_personalisation_export_is_audited():
    card = CardFactory(status=Card.Status.PRODUCED)
    agent = clerk()
    export_personalisation(actor=agent, card=card)
    entry = AuditEntry.objects.get(action="card.personalisation_exported")
    assert entry.actor == agent
    assert entry.person == card.holder
    assert entry.target == card.number
    assert entry.channel == AuditEntry.Channel.COUNTER


def test_the_personalisation_export_is_refused_to_residents_even_their_own_card():
    card = CardFactory(status=Card.Status.PRODUCED)
    with pytest.raises(Forbidden):
        export_personalisation(actor=card.holder.user, card=card)
    response = logged_in(card.holder.user).post(
        reverse("card:clerk_personalisation", args=[card.public_id])
    )
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="card.personalisation_exported").exists()


@pytest.mark.parametrize(
    "status", [Card.Status.VALIDATED, Card.Status.ACTIVE, Card.Status.SUSPENDED]
)
def test_only_a_produced_card_is_exported(status):
    card = CardFactory(status=status, uid=None if status == Card.Status.VALIDATED else UID)
    with pytest.raises(Conflict):
        export_personalisation(actor=clerk(), card=card)
    assert not AuditEntry.objects.filter(action="card.personalisation_exported").exists()


def test_a_phone_pass_has_nothing_to_export():
    card = PhonePassFactory(status=Card.Status.ACTIVE)
    with pytest.raises(Conflict):
        export_personalisation(actor=clerk(), card=card)


def test_the_export_refused_on_the_desk_page_is_a_message_and_no_file():
    card = CardFactory(status=Card.Status.ACTIVE)
    desk = logged_in(clerk())
    response = desk.post(reverse("card:clerk_personalisation", args=[card.public_id]), follow=True)
    assert response["Content-Type"].startswith("text/html")
    assert "that step is not possible now" in response.content.decode()
    assert not AuditEntry.objects.filter(action="card.personalisation_exported").exists()


# --- The look-up by number -------------------------------------------------------------------


def test_a_clerk_finds_a_card_by_its_number_typed_in_groups_and_the_look_up_is_audited():
    card = CardFactory(number=KNOWN_NUMBER)
    typed = f"{KNOWN_NUMBER[:4]} {KNOWN_NUMBER[4:8]} {KNOWN_NUMBER[8:12]}-{KNOWN_NUMBER[12:]}"
    desk = logged_in(clerk())
    response = desk.post(reverse("card:clerk_home"), {"number": typed})
    assert response.url == reverse("card:clerk_card", args=[card.public_id])
    entry = AuditEntry.objects.get(action="staff.card_looked_up")
    assert (entry.person, entry.target) == (card.holder, card.number)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (SLIPPED_NUMBER, "not valid"),  # one digit wrong: the check digit catches it
        ("9250 1234", "not valid"),
        (UNKNOWN_NUMBER, "No card has this number"),
    ],
)
def test_a_wrong_number_is_said_next_to_the_field_and_nothing_is_recorded(typed, message):
    CardFactory(number=KNOWN_NUMBER)
    desk = logged_in(clerk())
    response = desk.post(reverse("card:clerk_home"), {"number": typed})
    assert response.status_code == 200
    assert message in " ".join(response.context["lookup_form"].errors["number"])
    assert not AuditEntry.objects.filter(action="staff.card_looked_up").exists()


def test_the_look_up_action_refuses_residents():
    card = CardFactory()
    with pytest.raises(Forbidden):
        look_up_card(actor=card.holder.user, number=card.number)
    with pytest.raises(DomainError):
        look_up_card(actor=clerk(), number="1234")
