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
