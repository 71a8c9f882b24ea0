"""The card pages: Mes cartes and the phone pass for residents and guardians, the page a phone
opens when it taps a card, the clerk's card desk. Who may see what, and how every refusal is
shown."""

import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import segno
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from card import credentials, pdf
from card.actions.lifecycle import suspend_card
from card.models import Card
from documents_vault.models import Document
from identity.models import AuditEntry, Person
from tests.card.factories import (
    blank_png_upload,
    child_of,
    clerk,
    logged_in,
    new_photo,
    photo_upload,
    pool_agent,
    visitor,
)
from tests.factories import (
    CardFactory,
    PersonFactory,
    PhonePassFactory,
    ResidentFactory,
    UserFactory,
    chip_url,
)

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def _text(response) -> str:
    return response.content.decode()


def _no_inline_script_or_style(page: str) -> None:
    """The Content-Security-Policy allows neither: the page must work without them."""
    assert "style=" not in page
    assert "<style" not in page
    for script in re.findall(r"<script[^>]*>", page):
        assert "src=" in script


# --- Mes cartes ----------------------------------------------------------------------------


def test_my_cards_lists_the_cards_of_the_resident_and_of_the_children_in_their_care(camille):
    lea = child_of(camille, first_name="Léa")
    own = CardFactory(holder=camille, number="9250123456789017")
    PhonePassFactory(holder=lea)
    partner = PersonFactory(household=camille.household, first_name="Alex")
    partner_card = CardFactory(holder=partner)

    response = logged_in(camille.user).get(reverse("card:my_cards"))
    assert response.status_code == 200
    page = _text(response)
    assert "Camille Martin" in page
    assert "Léa" in page
    assert "9250 1234 5678 9017" in page  # in groups of four, as printed
    assert own.expires_on.strftime("%m/%d/%Y") in page
    # A partner's card is theirs to manage: not on this page.
    assert "Alex" not in page
    assert partner_card.public_id not in page
    _no_inline_script_or_style(page)


def test_the_actions_offered_follow_each_cards_status(camille):
    lea = child_of(camille, first_name="Léa")
    active = CardFactory(holder=camille)
    suspended = CardFactory(holder=lea, status=Card.Status.SUSPENDED, suspension_reason="lost")
    page = _text(logged_in(camille.user).get(reverse("card:my_cards")))

    assert reverse("card:suspend", args=[active.public_id]) in page
    assert reverse("card:replace", args=[active.public_id]) in page
    assert reverse("card:reactivate", args=[active.public_id]) not in page
    assert reverse("card:reactivate", args=[suspended.public_id]) in page
    assert reverse("card:suspend", args=[suspended.public_id]) not in page
    # Each has a card; each may still get a phone pass; nobody may ask for a second card.
    assert reverse("card:request", args=[camille.public_id]) not in page
    assert reverse("card:issue_phone_pass", args=[lea.public_id]) in page


def test_a_resident_requests_a_card_with_a_png_photo(camille):
    client = logged_in(camille.user)
    form_page = client.get(reverse("card:request", args=[camille.public_id]))
    assert form_page.status_code == 200
    assert 'enctype="multipart/form-data"' in _text(form_page)

    response = client.post(
        reverse("card:request", args=[camille.public_id]),
        new_photo(photo_upload("moi.png", fmt="PNG")),
    )
    assert response.url == reverse("card:my_cards")
    card = Card.objects.get(holder=camille)
    # The photo is in Camille's documents, shared with the request; the card has no copy of
    # its own until a clerk validates it.
    assert Document.objects.get(person=camille).kind == "photo"
    assert card.photo_share_id
    assert not card.photo


@pytest.mark.parametrize(("width", "height"), [(20000, 20000), (12000, 12000), (6001, 100)])
def test_a_photo_of_too_many_pixels_is_refused_before_it_is_decoded(
    camille, settings, width, height
):
    """A few kilobytes of PNG can declare hundreds of millions of pixels (20000 × 20000 is
    48 KB): decoded, it takes seconds and gigabytes, on the page and again in every card face
    PDF. Its header is enough to refuse it, next to the field."""
    upload = blank_png_upload(width, height)
    assert upload.size < 60_000
    response = logged_in(camille.user).post(
        reverse("card:request", args=[camille.public_id]), new_photo(upload)
    )
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["file"])
    assert "6000 × 6000" in errors
    assert not Card.objects.exists()
    assert not Document.objects.exists()
    assert not (settings.MEDIA_ROOT / "card-photos").exists()


def test_an_accepted_photo_is_kept_as_a_small_jpeg_without_the_cameras_metadata(camille):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: the camera was turned a quarter
    upload = photo_upload("camera.jpg", size=(4000, 3000), exif=exif)
    logged_in(camille.user).post(
        reverse("card:request", args=[camille.public_id]), new_photo(upload)
    )
    card = Card.objects.get(holder=camille)
    logged_in(clerk()).post(
        reverse("card:clerk_review", args=[card.public_id]), {"decision": "approve"}
    )
    card.refresh_from_db()
    with card.photo.open("rb") as handle, Image.open(handle) as kept:
        assert kept.format == "JPEG"
        assert kept.size == (900, 1200)  # upright (portrait), longest side 1200
        assert not kept.getexif()
        assert "exif" not in kept.info
    started = time.monotonic()
    pdf.card_face(card)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("cv.pdf", b"%PDF-1.4 not a photo", "application/pdf"), "not an image"),
        (photo_upload("photo.gif", fmt="GIF"), "JPEG or PNG"),
        (
            SimpleUploadedFile(
                "huge.jpg",
                photo_upload().read() + b"\0" * (5 * 1024 * 1024),
                content_type="image/jpeg",
            ),
            "5 MB",
        ),
        (SimpleUploadedFile("empty.jpg", b"", "image/jpeg"), "empty"),
    ],
)
def test_a_bad_photo_is_refused_next_to_the_field_and_nothing_is_written(
    camille, upload, message, settings
):
    response = logged_in(camille.user).post(
        reverse("card:request", args=[camille.public_id]), new_photo(upload)
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["file"])
    assert not Card.objects.exists()
    assert not Document.objects.exists()
    assert not AuditEntry.objects.filter(action="card.requested").exists()
    assert not (settings.MEDIA_ROOT / "card-photos").exists()


def test_a_missing_photo_is_refused_next_to_the_field(camille):
    client = logged_in(camille.user)
    response = client.post(reverse("card:request", args=[camille.public_id]))
    assert response.status_code == 200
    assert response.context["form"].errors["document"]
    response = client.post(reverse("card:request", args=[camille.public_id]), {"document": "new"})
    assert response.context["form"].errors["file"] == ["Choose the file to add."]
    assert not Card.objects.exists()


def test_a_second_request_while_a_card_is_live_is_refused_with_a_message(camille, settings):
    client = logged_in(camille.user)
    url = reverse("card:request", args=[camille.public_id])
    client.post(url, new_photo())
    response = client.post(url, new_photo(photo_upload(size=(300, 400))))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["Camille already has a card."]
    assert Card.objects.filter(holder=camille).count() == 1
    assert AuditEntry.objects.filter(action="card.requested").count() == 1
    assert Document.objects.filter(person=camille).count() == 1


def test_a_phone_pass_is_issued_in_one_click_and_a_second_one_is_refused(camille):
    client = logged_in(camille.user)
    response = client.post(reverse("card:issue_phone_pass", args=[camille.public_id]))
    card = Card.objects.get(holder=camille, kind=Card.Kind.PHONE)
    assert card.status == Card.Status.ACTIVE
    assert response.url == reverse("card:phone_pass", args=[card.public_id])

    response = client.post(reverse("card:issue_phone_pass", args=[camille.public_id]), follow=True)
    assert "Camille already has a phone pass." in _text(response)
    assert Card.objects.filter(holder=camille, kind=Card.Kind.PHONE).count() == 1


def test_suspending_asks_for_a_confirmation_first(camille):
    card = CardFactory(holder=camille)
    client = logged_in(camille.user)
    page = client.get(reverse("card:suspend", args=[card.public_id]))
    assert page.status_code == 200
    assert 'value="stolen"' in _text(page)
    card.refresh_from_db()
    assert card.status == Card.Status.ACTIVE  # seeing the page changes nothing

    response = client.post(reverse("card:suspend", args=[card.public_id]), {"reason": "broken"})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    card.refresh_from_db()
    assert card.status == Card.Status.ACTIVE


def test_suspending_a_card_already_suspended_is_a_message_not_an_error(camille):
    card = CardFactory(holder=camille, status=Card.Status.SUSPENDED, suspension_reason="lost")
    response = logged_in(camille.user).post(
        reverse("card:suspend", args=[card.public_id]), {"reason": "stolen"}
    )
    assert response.status_code == 200
    assert "not possible now" in " ".join(response.context["form"].non_field_errors())
    card.refresh_from_db()
    assert card.suspension_reason == "lost"


# --- Who may see what ------------------------------------------------------------------------


def _resident_urls(card: Card, holder: Person) -> list[tuple[str, str]]:
    return [
        ("get", reverse("card:request", args=[holder.public_id])),
        ("post", reverse("card:issue_phone_pass", args=[holder.public_id])),
        ("get", reverse("card:suspend", args=[card.public_id])),
        ("post", reverse("card:suspend", args=[card.public_id])),
        ("post", reverse("card:reactivate", args=[card.public_id])),
        ("get", reverse("card:replace", args=[card.public_id])),
        ("post", reverse("card:replace", args=[card.public_id])),
        ("get", reverse("card:phone_pass", args=[card.public_id])),
        ("get", reverse("card:phone_pass_code", args=[card.public_id])),
        ("get", reverse("card:photo", args=[card.public_id])),
    ]


def test_a_stranger_gets_nothing_of_someone_elses_cards(camille):
    card = PhonePassFactory(holder=camille)
    card.photo.save("x.jpg", photo_upload(), save=True)
    stranger = logged_in(ResidentFactory(first_name="Bastien", last_name="Roux").user)
    for method, url in _resident_urls(card, camille):
        response = getattr(stranger, method)(url, {"reason": "lost"} if method == "post" else {})
        assert response.status_code in {403, 404}, url
    card.refresh_from_db()
    assert card.status == Card.Status.ACTIVE
    assert Card.objects.count() == 1
    assert camille.first_name not in _text(stranger.get(reverse("card:my_cards")))


def test_a_partner_without_guardianship_cannot_manage_the_childs_card(camille):
    lea = child_of(camille, first_name="Léa")
    card = CardFactory(holder=lea)
    alex = PersonFactory(household=camille.household, user=UserFactory(), first_name="Alex")
    partner = logged_in(alex.user)
    assert partner.get(reverse("card:suspend", args=[card.public_id])).status_code == 404
    assert partner.get(reverse("card:request", args=[lea.public_id])).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(camille):
    card = CardFactory(holder=camille)
    for url in [reverse("card:my_cards"), reverse("card:suspend", args=[card.public_id])]:
        response = Client().get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    assert Client().get(reverse("card:clerk_home")).status_code == 302


def test_a_pool_agent_cannot_reach_the_clerk_desk():
    card = CardFactory(status=Card.Status.PRODUCED)
    card.photo.save("x.jpg", photo_upload(), save=True)
    agent = logged_in(pool_agent())
    assert agent.get(reverse("card:clerk_home")).status_code == 403
    assert agent.get(reverse("card:clerk_card", args=[card.public_id])).status_code == 403
    assert agent.get(reverse("card:clerk_card_face", args=[card.public_id])).status_code == 403
    assert agent.get(reverse("card:photo", args=[card.public_id])).status_code == 403
    for name in ["clerk_activate", "clerk_personalisation", "clerk_replace"]:
        assert agent.post(reverse(f"card:{name}", args=[card.public_id])).status_code == 403
    card.refresh_from_db()
    assert card.status == Card.Status.PRODUCED
    assert not AuditEntry.objects.filter(actor__isnull=False).exists()


def test_a_resident_cannot_reach_the_clerk_desk(camille):
    card = CardFactory(holder=camille, status=Card.Status.PRODUCED)
    client = logged_in(camille.user)
    assert client.get(reverse("card:clerk_home")).status_code == 403
    assert client.post(reverse("card:clerk_activate", args=[card.public_id])).status_code == 403
    card.refresh_from_db()
    assert card.status == Card.Status.PRODUCED


def test_a_clerk_viewing_a_photo_is_recorded_and_the_resident_sees_it(camille):
    card = CardFactory(holder=camille, status=Card.Status.REQUESTED, uid=None, expires_on=None)
    card.photo.save("x.jpg", photo_upload(), save=True)
    # The holder viewing their own photo is not a staff access.
    own = logged_in(camille.user).get(reverse("card:photo", args=[card.public_id]))
    assert own.status_code == 200
    assert not AuditEntry.objects.filter(action="staff.card_photo_viewed").exists()

    response = logged_in(clerk()).get(reverse("card:photo", args=[card.public_id]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    entry = AuditEntry.objects.get(action="staff.card_photo_viewed")
    assert (entry.person, entry.household, entry.channel) == (
        camille,
        camille.household,
        AuditEntry.Channel.COUNTER,
    )
    accesses = _text(logged_in(camille.user).get(reverse("identity:file_accesses")))
    assert "Card photo viewed" in accesses


# --- The clerk's desk: refusals ----------------------------------------------------------


@pytest.mark.parametrize("uid", ["XYZ", "04A1B2C3D4E5", "04A1B2C3D4E5F6AA", ""])
def test_a_bad_chip_uid_is_refused_next_to_the_field_and_nothing_is_written(uid):
    card = CardFactory(status=Card.Status.VALIDATED, uid=None, expires_on=None)
    response = logged_in(clerk()).post(
        reverse("card:clerk_produce", args=[card.public_id]), {"uid": uid}
    )
    assert response.status_code == 200
    assert response.context["uid_form"].errors["uid"]
    card.refresh_from_db()
    assert (card.status, card.uid) == (Card.Status.VALIDATED, None)
    assert not AuditEntry.objects.filter(action="card.produced").exists()


def test_a_chip_already_used_by_another_card_is_refused():
    CardFactory(uid="04A1B2C3D4E5F6")
    card = CardFactory(status=Card.Status.VALIDATED, uid=None, expires_on=None)
    response = logged_in(clerk()).post(
        reverse("card:clerk_produce", args=[card.public_id]), {"uid": "04a1b2c3d4e5f6"}
    )
    assert response.context["uid_form"].errors["uid"] == [
        "This chip is already used by another card."
    ]
    card.refresh_from_db()
    assert card.status == Card.Status.VALIDATED


def test_the_card_face_of_a_card_not_produced_is_not_printed():
    card = CardFactory(status=Card.Status.ACTIVE)
    response = logged_in(clerk()).get(reverse("card:clerk_card_face", args=[card.public_id]))
    assert response.status_code == 302
    assert response.url == reverse("card:clerk_card", args=[card.public_id])


def test_the_queue_shows_each_step_with_its_cards():
    requested = CardFactory(status=Card.Status.REQUESTED, uid=None, expires_on=None)
    requested.photo.save("x.jpg", photo_upload(), save=True)
    validated = CardFactory(status=Card.Status.VALIDATED, uid=None, expires_on=None)
    produced = CardFactory(status=Card.Status.PRODUCED)
    active = CardFactory(status=Card.Status.ACTIVE)
    response = logged_in(clerk()).get(reverse("card:clerk_home"))
    assert [c.pk for c in response.context["requested"]] == [requested.pk]
    assert [c.pk for c in response.context["validated"]] == [validated.pk]
    assert [c.pk for c in response.context["produced"]] == [produced.pk]
    page = _text(response)
    assert reverse("card:photo", args=[requested.public_id]) in page
    assert reverse("card:clerk_activate", args=[produced.public_id]) in page
    assert active.public_id not in page
    _no_inline_script_or_style(page)


CLERK_STEPS = [
    "clerk_review",
    "clerk_produce",
    "clerk_card_face",
    "clerk_personalisation",
    "clerk_activate",
    "clerk_suspend",
    "clerk_reactivate",
    "clerk_replace",
    "clerk_revoke",
]
STEPS_BY_STATUS = {
    "requested": {"clerk_review"},
    "validated": {"clerk_produce", "clerk_revoke"},
    "produced": {
        "clerk_card_face",
        "clerk_personalisation",
        "clerk_activate",
        "clerk_suspend",
        "clerk_replace",
        "clerk_revoke",
    },
    "active": {"clerk_suspend", "clerk_replace", "clerk_revoke"},
    "suspended": {"clerk_reactivate", "clerk_replace", "clerk_revoke"},
}


@pytest.mark.parametrize("status", Card.Status.values)
def test_the_clerk_card_page_offers_the_steps_its_status_allows(status):
    chipless = status in {"requested", "validated", "rejected"}
    card = CardFactory(status=status, **({"uid": None, "expires_on": None} if chipless else {}))
    response = logged_in(clerk()).get(reverse("card:clerk_card", args=[card.public_id]))
    assert response.status_code == 200
    page = _text(response)
    offered = {
        name for name in CLERK_STEPS if reverse(f"card:{name}", args=[card.public_id]) in page
    }
    assert offered == STEPS_BY_STATUS.get(status, set())


# --- The card's own web address --------------------------------------------------------------


def test_a_tapped_card_names_its_holder_by_first_name_and_initial_only(camille):
    card = CardFactory(holder=camille, uid="04A1B2C3D4E5F6")
    response = visitor().get(chip_url(card.uid, 5))
    assert response.status_code == 200
    page = _text(response)
    assert "Card of Camille M." in page
    assert "Martin" not in page
    assert card.number not in page
    assert reverse("card:suspend", args=[card.public_id]) not in page
    assert "town hall" in page
    assert response["Cache-Control"] == "no-store"


def test_viewing_the_tapped_page_does_not_consume_the_counter(camille):
    card = CardFactory(holder=camille, uid="04A1B2C3D4E5F6", last_counter=4)
    url = chip_url(card.uid, 5)
    assert Client().get(url).status_code == 200
    assert Client().get(url).status_code == 200  # the same message, again: still shown
    card.refresh_from_db()
    assert card.last_counter == 4


def test_the_holder_or_a_guardian_tapping_the_card_is_offered_to_report_it_lost(camille):
    lea = child_of(camille, first_name="Léa")
    card = CardFactory(holder=lea, uid="04A1B2C3D4E5F6")
    response = logged_in(camille.user).get(chip_url(card.uid, 1))
    page = _text(response)
    assert "Card of Léa M." in page
    assert reverse("card:suspend", args=[card.public_id]) + "?reason=lost" in page

    stranger = logged_in(ResidentFactory().user).get(chip_url(card.uid, 2))
    assert reverse("card:suspend", args=[card.public_id]) not in _text(stranger)


def test_the_tapped_page_uses_the_configured_card_address(settings):
    assert reverse("card:tapped") == "/c/"
    assert settings.SESAME_CARD_URL.endswith(reverse("card:tapped"))


@pytest.mark.parametrize(
    "query",
    [
        "",
        "e=zz&c=11",
        "e=" + "0" * 32 + "&c=" + "0" * 16,  # the personalisation template, never rewritten
        "e=" + "A" * 32,
        "e=00&c=%3Cscript%3E",  # (a NUL never gets here: tests/portal/test_site.py)
    ],
)
def test_a_malformed_or_forged_message_is_not_a_valid_card(query):
    response = visitor().get(reverse("card:tapped") + ("?" + query if query else ""))
    assert response.status_code == 400
    assert "This is not a valid Sésame card" in _text(response)


def test_a_genuine_phone_pass_code_is_not_a_card_either():
    card = PhonePassFactory()
    code = credentials.phone_pass_payload(card.number, timezone.now())
    credentials.read(code, at=timezone.now())  # genuine…
    response = visitor().get(reverse("card:tapped") + "?" + code)
    assert response.status_code == 400  # …but this page is for cards


def test_a_message_with_a_tampered_mac_is_not_a_valid_card():
    card = CardFactory(uid="04A1B2C3D4E5F6")
    url = chip_url(card.uid, 3)
    last = url[-1]
    tampered = url[:-1] + ("0" if last != "0" else "1")
    response = Client().get(tampered)
    assert response.status_code == 400
    assert Client().get(url).status_code == 200


def test_a_genuine_message_of_a_chip_no_card_has_is_an_unknown_card():
    response = visitor().get(chip_url("04FFFFFFFFFFFF", 1))
    assert response.status_code == 404
    assert "This card is not registered" in _text(response)


# --- The phone pass --------------------------------------------------------------------------


def _qr_payload(response) -> str:
    return response.context["payload"]


def test_the_phone_pass_shows_a_qr_code_the_gates_accept(camille):
    card = PhonePassFactory(holder=camille)
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, 5, tzinfo=PARIS), tick=False):
        response = logged_in(camille.user).get(reverse("card:phone_pass", args=[card.public_id]))
        assert response.status_code == 200
        payload = _qr_payload(response)
        presented = credentials.read(payload, at=timezone.now())
    assert (presented.kind, presented.number) == ("phone", card.number)
    page = _text(response)
    # The QR drawn on the page encodes exactly that payload.
    expected = segno.make(payload, error="m").svg_inline(
        scale=5, border=4, dark="#000", light="#fff"
    )
    assert expected in page
    assert payload not in page.replace(expected, "")  # the code is only in the picture
    assert "screenshot" in page
    assert response["Cache-Control"] == "no-store"
    _no_inline_script_or_style(page)


def test_the_qr_is_refreshed_by_polling_and_a_screenshot_soon_stops_working(camille):
    card = PhonePassFactory(holder=camille)
    client = logged_in(camille.user)
    code_url = reverse("card:phone_pass_code", args=[card.public_id])
    start = datetime(2026, 3, 2, 10, 0, 5, tzinfo=PARIS)
    with time_machine.travel(start, tick=False):
        page = _text(client.get(reverse("card:phone_pass", args=[card.public_id])))
        assert f'hx-get="{code_url}"' in page
        assert 'hx-trigger="every 10s"' in page
        screenshot = _qr_payload(client.get(code_url))
    with time_machine.travel(start + timedelta(seconds=40), tick=False):
        fresh = client.get(code_url)
        assert fresh.status_code == 200
        assert 'hx-trigger="every 10s"' in _text(fresh)
        assert _qr_payload(fresh) != screenshot
        credentials.read(_qr_payload(fresh), at=timezone.now())
    with (
        time_machine.travel(start + timedelta(seconds=95), tick=False),
        pytest.raises(credentials.InvalidCredential) as refused,
    ):
        credentials.read(screenshot, at=timezone.now())
    assert refused.value.reason == "expired_credential"


def test_a_pass_blocked_meanwhile_stops_the_polling(camille):
    card = PhonePassFactory(holder=camille)
    client = logged_in(camille.user)
    suspend_card(actor=camille.user, card=card, reason="lost")
    response = client.get(reverse("card:phone_pass_code", args=[card.public_id]))
    assert response.status_code == 286  # htmx: stop polling
    assert "hx-get" not in _text(response)
    assert "payload" not in response.context
    assert client.get(reverse("card:phone_pass", args=[card.public_id])).status_code == 404


def test_only_an_active_phone_pass_has_a_pass_page(camille):
    nfc = CardFactory(holder=camille)
    suspended = PhonePassFactory(holder=camille, status=Card.Status.SUSPENDED)
    client = logged_in(camille.user)
    assert client.get(reverse("card:phone_pass", args=[nfc.public_id])).status_code == 404
    assert client.get(reverse("card:phone_pass", args=[suspended.public_id])).status_code == 404


def test_a_guardian_shows_the_childs_phone_pass(camille):
    lea = child_of(camille, first_name="Léa")
    client = logged_in(camille.user)
    client.post(reverse("card:issue_phone_pass", args=[lea.public_id]))
    card = Card.objects.get(holder=lea, kind=Card.Kind.PHONE)
    response = client.get(reverse("card:phone_pass", args=[card.public_id]))
    assert response.status_code == 200
    assert credentials.read(_qr_payload(response), at=timezone.now()).number == card.number


# --- Mon espace ------------------------------------------------------------------------------


def test_the_cards_panel_of_mon_espace_lists_the_households_cards(camille):
    lea = child_of(camille, first_name="Léa")
    CardFactory(holder=camille, number="9250123456789017")
    PhonePassFactory(holder=lea)
    page = _text(logged_in(camille.user).get(reverse("portal:home")))
    panel = page[page.index('id="panel-cards"') : page.index('id="panel-services"')]
    assert "9250 1234 5678 9017" in panel
    assert "Léa" in panel
    assert reverse("card:my_cards") in panel
    # The other panels stay as they were.
    assert "You are not registered with any service yet." in page


def test_the_cards_panel_says_when_there_is_no_card_yet(camille):
    page = _text(logged_in(camille.user).get(reverse("portal:home")))
    panel = page[page.index('id="panel-cards"') : page.index('id="panel-services"')]
    assert 'class="empty"' in panel
    assert reverse("card:my_cards") in panel


def test_a_poll_after_the_session_ended_sends_the_page_to_the_login(camille):
    card = PhonePassFactory(holder=camille)
    response = Client().get(
        reverse("card:phone_pass_code", args=[card.public_id]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("account_login"))
    assert "payload" not in (response.context or {})
