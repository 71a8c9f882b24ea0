"""A kiosk screen shows only what happened after it was paired: a tap made a moment before
(by the previous screen's resident, or while staff set the new screen up) is neither shown nor
acted on; the next tap is."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from card.models import Tap
from kiosk import actions
from tests.factories import CardFactory, EntitlementFactory, post_tap, reading_english, sun_url
from tests.kiosk.factories import kiosk_reader_with_token, paired_screen

pytestmark = pytest.mark.django_db


def test_a_tap_made_before_the_pairing_is_not_shown_and_the_next_one_is(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    reader, token = kiosk_reader_with_token()
    card = CardFactory(holder__first_name="Prudence")
    EntitlementFactory(holder=card.holder)
    assert post_tap(Client(), token, credential=sun_url(card, 1)).json()["granted"]

    # An old screen of the same kiosk, paired before the tap, shows it…
    time_machine.shift(timedelta(seconds=-60))
    old_screen = reading_english(Client())
    paired_screen(old_screen, reader)
    time_machine.shift(timedelta(seconds=65))
    assert old_screen.get(f"/borne/{reader.public_id}/").context["state"].state == "tap"

    # …a screen paired 5 seconds after it (well within the 30 s a tap stays shown) does not.
    screen = reading_english(Client())
    paired_screen(screen, reader)
    page = screen.get(f"/borne/{reader.public_id}/")
    assert page.context["state"].state == "idle"
    assert "Prudence" not in page.content.decode()

    # Pressing on that tap from the new screen acts on nothing.
    tap_id = old_screen.get(f"/borne/{reader.public_id}/").context["state"].tap_id
    screen.post(f"/borne/{reader.public_id}/action/", {"tap": tap_id, "do": "topup"})
    assert not reader.kiosk_sessions.exists()

    time_machine.shift(timedelta(seconds=2))
    assert post_tap(Client(), token, credential=sun_url(card, 2)).json()["granted"]
    page = screen.get(f"/borne/{reader.public_id}/")
    assert page.context["state"].state == "tap"
    assert "Prudence" in page.content.decode()


def test_a_session_started_before_the_pairing_is_not_shown(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    reader, token = kiosk_reader_with_token()
    card = CardFactory()
    post_tap(Client(), token, credential=sun_url(card, 1))
    tap = Tap.objects.get(reader=reader)
    session = actions.open_session(reader=reader, tap_id=tap.pk)
    time_machine.shift(timedelta(seconds=3))
    screen = Client()
    paired_screen(screen, reader)
    assert screen.get(f"/borne/{reader.public_id}/").context["state"].state == "idle"
    session.refresh_from_db()
    assert session.ended_at is None  # not ended by the new screen: just not shown there
