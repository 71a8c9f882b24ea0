"""The kiosk screen: paired once by staff, then driven by its reader's taps; it shows a first
name and what the holder holds, never more, and forgets them soon."""

from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from card.models import Reader
from identity.models import StaffRole
from kiosk import actions
from kiosk.models import ScreenPairing
from kiosk.views import SCREEN_COOKIE
from tests.factories import (
    CardFactory,
    EntitlementFactory,
    PassFactory,
    bearer,
    post_tap,
    reading_english,
    staff_user,
    sun_url,
)
from tests.kiosk.factories import kiosk_reader_with_token, paired_screen

pytestmark = pytest.mark.django_db

Role = StaffRole.Role


@pytest.fixture
def kiosk():
    return kiosk_reader_with_token()


@pytest.fixture
def screen(kiosk):
    client = reading_english(Client())
    paired_screen(client, kiosk[0])
    return client


def admin_client() -> Client:
    client = reading_english(Client())
    client.force_login(staff_user(Role.ADMIN))
    return client


def test_staff_pair_a_screen_with_a_one_time_link(kiosk):
    reader, _token = kiosk
    response = admin_client().post(f"/agents/bornes/{reader.public_id}/appairer/")
    assert response.status_code == 200
    link = response.context["link"]
    assert "/borne/appairer/" in link
    assert _token not in response.content.decode()
    path = link.split("testserver", 1)[1]
    device = Client()
    assert device.get(path).status_code == 200  # a link preview does not spend it
    answer = device.post(path)
    assert answer.status_code == 302
    assert answer["Location"] == f"/borne/{reader.public_id}/"
    assert device.get(answer["Location"]).status_code == 200
    # Once only.
    assert Client().post(path).status_code == 400


def test_a_pairing_link_expires(kiosk, time_machine):
    time_machine.move_to(timezone.now())
    reader, _token = kiosk
    _pairing, code = actions.create_screen_pairing(actor=staff_user(Role.ADMIN), reader=reader)
    time_machine.shift(timedelta(minutes=16))
    assert Client().post(f"/borne/appairer/{code}/").status_code == 400


def test_only_admins_pair_screens_and_only_for_kiosks(kiosk):
    reader, _token = kiosk
    agent = reading_english(Client())
    agent.force_login(staff_user(Role.POOL_AGENT, facility=reader.access_point.facility))
    assert agent.post(f"/agents/bornes/{reader.public_id}/appairer/").status_code == 403
    gate = Reader.objects.create(
        name="Portique",
        kind=Reader.Kind.GATE,
        access_point=reader.access_point,
        token_prefix="gate0001",
        token_hash="x",
    )
    admin_client().post(f"/agents/bornes/{gate.public_id}/appairer/")
    assert not ScreenPairing.objects.filter(reader=gate).exists()


def test_the_screen_needs_its_pairing_cookie(kiosk, screen):
    reader, _token = kiosk
    assert Client().get(f"/borne/{reader.public_id}/").status_code == 403
    other, _ = kiosk_reader_with_token()
    assert screen.get(f"/borne/{other.public_id}/").status_code == 403
    forged = Client()
    forged.cookies[SCREEN_COOKIE] = screen.cookies[SCREEN_COOKIE].value + "x"
    assert forged.get(f"/borne/{reader.public_id}/").status_code == 403
    actions.revoke_screen_pairings(actor=staff_user(Role.ADMIN), reader=reader)
    assert screen.get(f"/borne/{reader.public_id}/").status_code == 403


def test_a_tap_shows_the_first_name_passes_and_entries_left(kiosk, screen):
    reader, token = kiosk
    card = CardFactory()
    EntitlementFactory(holder=card.holder, entries=10)
    PassFactory(holder=card.holder, label="Pass annuel médiathèque", facility_kind="library")
    page = screen.get(f"/borne/{reader.public_id}/")
    assert "Tap your Sésame card" in page.content.decode()
    key = page.context["state"].key

    assert post_tap(Client(), token, credential=sun_url(card, 1)).json()["reason"] == "valid"
    poll = screen.get(f"/borne/{reader.public_id}/etat/", {"since": key})
    text = poll.content.decode()
    assert poll.status_code == 200
    assert f"Hello {card.holder.first_name}" in text
    assert card.holder.last_name not in text
    assert card.number not in text
    assert "Carnet 10 entrées" in text
    assert "10 entries left" in text  # a kiosk is a desk: it checks, it consumes nothing
    assert "Pass annuel médiathèque" in text
    # Nothing new: nothing to swap.
    again = screen.get(f"/borne/{reader.public_id}/etat/", {"since": poll.context["state"].key})
    assert again.status_code == 204


def test_the_screen_forgets_after_30_seconds(kiosk, screen, time_machine):
    time_machine.move_to(timezone.now())
    reader, token = kiosk
    card = CardFactory()
    post_tap(Client(), token, credential=sun_url(card, 1))
    assert screen.get(f"/borne/{reader.public_id}/").context["state"].state == "tap"
    time_machine.shift(timedelta(seconds=31))
    assert screen.get(f"/borne/{reader.public_id}/").context["state"].state == "idle"


def post_event(token: str, event: str):
    return Client().post(
        "/api/v1/kiosk/events",
        {"event": event, "at": timezone.now().isoformat()},
        content_type="application/json",
        headers=bearer(token),
    )


def test_removing_the_card_clears_the_screen_after_time_to_read(kiosk, screen, time_machine):
    time_machine.move_to(timezone.now())
    reader, token = kiosk
    post_tap(Client(), token, credential=sun_url(CardFactory(), 1))
    post_event(token, "card_removed")  # pulled away at once: still shown, time to read
    assert screen.get(f"/borne/{reader.public_id}/").context["state"].state == "tap"
    time_machine.shift(timedelta(seconds=6))
    post_event(token, "card_removed")
    assert screen.get(f"/borne/{reader.public_id}/").context["state"].state == "idle"


def test_a_foreign_card_is_not_a_sesame_card(kiosk, screen):
    reader, token = kiosk
    assert post_event(token, "foreign_card").status_code == 200
    page = screen.get(f"/borne/{reader.public_id}/")
    assert "This is not a Sésame card." in page.content.decode()


def test_a_tampered_message_is_refused_without_a_name(kiosk, screen):
    reader, token = kiosk
    card = CardFactory(holder__first_name="Anouk")  # a name the page's words cannot contain
    url = sun_url(card, 1)
    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
    assert post_tap(Client(), token, credential=tampered).json()["reason"] == "invalid_credential"
    text = screen.get(f"/borne/{reader.public_id}/").content.decode()
    assert "This card could not be read" in text
    assert card.holder.first_name not in text


def test_a_suspended_card_is_told_to_go_to_the_desk(kiosk, screen):
    reader, token = kiosk
    card = CardFactory(status="suspended")
    post_tap(Client(), token, credential=sun_url(card, 1))
    text = screen.get(f"/borne/{reader.public_id}/").content.decode()
    assert "This card is suspended" in text


def test_the_language_switch_is_on_the_screen(kiosk, screen):
    reader, _token = kiosk
    text = screen.get(f"/borne/{reader.public_id}/").content.decode()
    assert 'name="language" value="fr"' in text
    assert 'name="language" value="en"' in text
    assert "<script>" not in text  # strict CSP: scripts are files


def test_the_screen_speaks_french_by_default_and_its_files_are_served(kiosk):
    reader, _token = kiosk
    device = Client()
    paired_screen(device, reader)
    page = device.get(f"/borne/{reader.public_id}/")
    assert page["Content-Language"] == "fr"
    assert page["Cache-Control"] == "no-store"
    for name in ["kiosk/screen.js", "kiosk/kiosk.css"]:
        assert f"/static/{name}" in page.content.decode()
        assert finders.find(name) is not None
