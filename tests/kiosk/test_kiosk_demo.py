"""`make kiosk-demo` against the running demo: the demo card, emulated on nfcpy's UDP driver,
read by the real agent in its own process; it shares its counter with `make tap`."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from card import demo as card_demo
from identity import demo
from services.catalog import demo as catalog_demo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def running_demo(live_server, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    demo.load()
    catalog_demo.load()
    card_demo.load()
    return live_server.url


def last_line(command: str, server: str) -> dict:
    out = StringIO()
    call_command(command, server=server, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_kiosk_demo_taps_the_demo_card_through_the_real_agent(running_demo, tmp_path):
    answer = last_line("kiosk_demo", running_demo)
    assert (answer["granted"], answer["reason"]) == (True, "granted")
    assert answer["holder"]["first_name"] == "Camille"
    assert answer["entitlement"]["remaining"] == 9
    # The same card as `make tap`: the counter goes on, so each run is a new valid tap.
    assert last_line("simulate_tap", running_demo)["entitlement"]["remaining"] == 8
    assert last_line("kiosk_demo", running_demo)["entitlement"]["remaining"] == 7
    state = json.loads((tmp_path / "simulated-cards.json").read_text())
    assert state[card_demo.DEMO_CARD_UID]["counter"] == 3
    config = (tmp_path / "kiosk-demo" / "agent.toml").read_text()
    assert "rdr_" not in config  # the token lives in its own file


def test_the_demo_kiosk_screen_pairs_from_a_printed_link_and_shows_the_tap(running_demo):
    from django.test import Client

    out = StringIO()
    call_command("kiosk_demo", screen_link=True, server=running_demo, stdout=out)
    link = out.getvalue().strip()
    assert link.startswith(running_demo + "/borne/appairer/")

    screen = Client()
    paired = screen.post(link.removeprefix(running_demo), follow=True)
    assert paired.status_code == 200

    out = StringIO()
    call_command("kiosk_demo", kiosk=True, server=running_demo, stdout=out, stderr=StringIO())
    answer = json.loads(out.getvalue().strip().splitlines()[-1])
    # A kiosk checks, never consumes: the holder sees what is left.
    assert (answer["granted"], answer["reason"]) == (True, "valid")
    assert answer["entitlement"]["remaining"] == 10
    kiosk = card_demo.demo_kiosk()
    state = screen.get(f"/borne/{kiosk.public_id}/etat/")
    assert "Camille" in state.content.decode()
    assert "Martin" not in state.content.decode()


def test_the_demo_kiosk_has_its_own_access_point_beside_the_pool_desk(running_demo):
    from services.catalog.models import AccessPoint

    kiosk = card_demo.demo_kiosk()
    point = kiosk.access_point
    assert point.name == catalog_demo.KIOSK_HALL
    assert point.kind == AccessPoint.Kind.DESK
    desk = AccessPoint.objects.get(facility=point.facility, name="Accueil")
    assert desk.readers.exclude(pk=kiosk.pk).filter(kind="desk").exists()
    assert not desk.readers.filter(kind="kiosk").exists()
    # Loading again adds nothing and moves nothing.
    card_demo.load()
    catalog_demo.load()
    assert AccessPoint.objects.filter(name=catalog_demo.KIOSK_HALL).count() == 1
    assert card_demo.demo_kiosk().access_point == point
    assert not point.readers.exclude(pk=kiosk.pk).exists()
