"""`make tap` against the running demo: the simulated card keeps its counter like a real one,
REPLAY=1 is what a cloned card does."""

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


def make_tap(server: str, **options) -> dict:
    out = StringIO()
    call_command("simulate_tap", server=server, stdout=out, stderr=StringIO(), **options)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_make_tap_spends_one_entry_of_the_demo_book_each_time(running_demo, tmp_path):
    first = make_tap(running_demo)
    assert first["granted"] is True
    assert first["entitlement"]["remaining"] == 9
    assert make_tap(running_demo)["entitlement"]["remaining"] == 8
    state = json.loads((tmp_path / "simulated-cards.json").read_text())
    assert state[card_demo.DEMO_CARD_UID]["counter"] == 2


def test_make_tap_replay_is_refused(running_demo):
    make_tap(running_demo)
    replayed = make_tap(running_demo, replay=True)
    assert (replayed["granted"], replayed["reason"]) == (False, "replay")
    # The real card, tapped again, still works.
    assert make_tap(running_demo)["granted"] is True
