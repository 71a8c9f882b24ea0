"""The real reader agent, reading an emulated NTAG 424 DNA-like card over nfcpy's UDP driver
(no hardware), talking HTTP to a live server: taps granted, 50 in a row, a cloned card, the
reader unplugged, the server down (the gate decides offline and uploads later)."""

import json
import logging
import threading

import pytest
from django.test import Client

from card.models import Tap
from kiosk.agent import __version__
from kiosk.agent.__main__ import main as agent_main
from kiosk.agent.reader import Reader as NfcReader
from kiosk.agent.reader import default_frontend_factory
from kiosk.emulator import without_ndef
from kiosk.models import DeviceStatus, ReaderEvent
from tests.factories import (
    CardFactory,
    EntitlementFactory,
    PassFactory,
    reader_with_token,
    reading_english,
)
from tests.kiosk.factories import (
    Chip,
    agent_config,
    closed_port_url,
    emulated_card,
    kiosk_reader_with_token,
    paired_screen,
    running_agent,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def card():
    card = CardFactory(uid="04A1B2C3D4E5F6")
    EntitlementFactory(holder=card.holder)
    return card


def test_a_tap_read_by_the_agent_is_granted_by_the_server(live_server, tmp_path, card):
    reader, token = reader_with_token()
    chip = Chip(card.uid)
    with emulated_card(chip) as emulated:
        config = agent_config(tmp_path, server_url=live_server.url, token=token, path=emulated.path)
        with running_agent(config) as agent:
            emulated.tap()
            wait_for(lambda: agent.answers, what="the server's answer")
    answer = agent.answers[0]
    assert answer["granted"] is True
    assert answer["reason"] == "granted"
    assert answer["holder"]["first_name"] == card.holder.first_name
    assert answer["entitlement"]["remaining"] == 9
    tap = Tap.objects.get()
    assert (tap.reader, tap.card, tap.counter, tap.client_tap_id) == (
        reader,
        card,
        1,
        answer["tap_id"],
    )


def test_fifty_taps_in_a_row_without_a_miss(live_server, tmp_path, card):
    _reader, token = reader_with_token()
    PassFactory(holder=card.holder)
    chip = Chip(card.uid)
    with emulated_card(chip) as emulated:
        config = agent_config(tmp_path, server_url=live_server.url, token=token, path=emulated.path)
        with running_agent(config) as agent:
            for number in range(1, 51):
                result = emulated.tap()
                assert result.served
                wait_for(lambda n=number: len(agent.answers) >= n, what=f"answer {number}")
    assert [answer["reason"] for answer in agent.answers] == ["granted"] * 50
    assert len({answer["tap_id"] for answer in agent.answers}) == 50
    assert sorted(Tap.objects.values_list("counter", flat=True)) == list(range(1, 51))


def test_a_cloned_card_replaying_an_old_message_is_refused(live_server, tmp_path, card):
    _reader, token = reader_with_token()
    chip = Chip(card.uid)
    genuine = emulated_card(chip)
    with genuine:
        config = agent_config(tmp_path, server_url=live_server.url, token=token, path=genuine.path)
        with running_agent(config) as agent:
            genuine.tap()
            wait_for(lambda: agent.answers, what="the genuine tap")
            # The clone answers with the message it skimmed from the genuine card.
            genuine.url_source = lambda: chip.urls[0]
            genuine.tap()
            wait_for(lambda: len(agent.answers) == 2, what="the clone's tap")
    assert [a["reason"] for a in agent.answers] == ["granted", "replay"]
    assert agent.answers[1]["granted"] is False


def test_a_card_pulled_mid_read_is_logged_and_the_next_tap_works(
    live_server, tmp_path, card, caplog
):
    _reader, token = reader_with_token()
    with emulated_card(Chip(card.uid)) as emulated:
        config = agent_config(tmp_path, server_url=live_server.url, token=token, path=emulated.path)
        with caplog.at_level(logging.INFO, logger="sesame.agent"), running_agent(config) as agent:
            emulated.tap(pull_after_apdus=3)  # gone after the capability container's select
            emulated.tap()
            wait_for(lambda: agent.answers, what="the second tap")
    assert [a["reason"] for a in agent.answers] == ["granted"]
    assert "card_pulled_mid_read" in caplog.messages


def test_the_reader_unplugged_and_plugged_back(live_server, tmp_path, card, caplog):
    _reader, token = reader_with_token()
    attempts = []

    def flaky(path):
        attempts.append(path)
        if len(attempts) <= 2:  # not plugged in yet
            raise OSError(19, "No such device")
        return default_frontend_factory(path)

    with emulated_card(Chip(card.uid)) as emulated:
        config = agent_config(tmp_path, server_url=live_server.url, token=token, path=emulated.path)
        with (
            caplog.at_level(logging.INFO, logger="sesame.agent"),
            running_agent(config, factory=flaky) as agent,
        ):
            emulated.tap()
            wait_for(lambda: len(agent.answers) == 1, what="the first tap")
            agent.reader.clf.close()  # unplugged: nfcpy loses its device
            wait_for(lambda: len(attempts) >= 4, what="the reader reopened")
            emulated.tap()
            wait_for(lambda: len(agent.answers) == 2, what="the tap after re-plugging")
    assert [a["reason"] for a in agent.answers] == ["granted", "granted"]
    errors = [r.fields["message"] for r in caplog.records if r.getMessage() == "error"]
    assert any("is it plugged in?" in message for message in errors)
    assert "reader_back" in caplog.messages


def test_server_down_the_gate_decides_offline_then_uploads(live_server, tmp_path, card):
    reader, token = reader_with_token()
    entries = EntitlementFactory._meta.model.objects.get(holder=card.holder)
    with emulated_card(Chip(card.uid)) as emulated:
        config = agent_config(tmp_path, server_url=live_server.url, token=token, path=emulated.path)
        with running_agent(config) as agent:
            assert agent.heartbeat()["reader"] == reader.public_id
            assert agent.refresh_snapshot()
            agent.client.base_url = closed_port_url()  # the network goes down
            emulated.tap()
            wait_for(lambda: agent.answers, what="the offline decision")
            offline = agent.answers[0]
            assert (offline["granted"], offline["reason"], offline["offline"]) == (
                True,
                "granted",
                True,
            )
            assert offline["holder"] == {"first_name": card.holder.first_name}
            assert len(agent.queue) == 1
            assert not Tap.objects.exists()

            agent.client.base_url = live_server.url  # back
            results = agent.upload_queue()
    assert results == [
        {"tap_id": offline["tap_id"], "granted": True, "reason": "granted", "honoured": True}
    ]
    assert len(agent.queue) == 0
    tap = Tap.objects.get()
    assert tap.offline
    assert tap.counter == 1
    entries.refresh_from_db()
    assert entries.entries_left == 9


def test_server_down_a_kiosk_says_the_service_is_unavailable(tmp_path, card):
    _reader, token = kiosk_reader_with_token()
    with emulated_card(Chip(card.uid)) as emulated:
        config = agent_config(
            tmp_path, server_url=closed_port_url(), token=token, path=emulated.path, mode="kiosk"
        )
        with running_agent(config) as agent:
            emulated.tap()
            wait_for(lambda: agent.answers, what="the kiosk's answer")
    assert agent.answers[0]["reason"] == "service_unavailable"
    assert len(agent.queue) == 0


def test_a_card_that_is_not_a_sesame_card_is_reported(live_server, tmp_path):
    reader, token = kiosk_reader_with_token()
    with emulated_card(without_ndef(), uid="08112233445566", hold_seconds=0.3) as emulated:
        config = agent_config(
            tmp_path, server_url=live_server.url, token=token, path=emulated.path, mode="kiosk"
        )
        with running_agent(config) as agent:
            emulated.tap()
            wait_for(lambda: agent.answers, what="the agent's verdict")
            wait_for(
                lambda: ReaderEvent.objects.filter(kind="card_removed").exists(),
                what="the card removed",
            )
    assert list(agent.answers) == [{"granted": False, "reason": "not_a_sesame_card"}]
    assert list(ReaderEvent.objects.filter(reader=reader).values_list("kind", flat=True)) == [
        "card_removed",
        "foreign_card",
    ]
    assert not Tap.objects.exists()


def test_once_prints_the_server_answer_as_the_last_line(live_server, tmp_path, card, capsys):
    _reader, token = reader_with_token()
    with emulated_card(Chip(card.uid)) as emulated:
        config_file = tmp_path / "agent.toml"
        config_file.write_text(
            f'[server]\nurl = "{live_server.url}"\ntoken = "{token}"\n'
            f'[reader]\npath = "{emulated.path}"\nmode = "gate"\n'
            f'[agent]\nstate_dir = "{tmp_path / "state"}"\n'
        )
        emulated.present()
        code = agent_main(["--config", str(config_file), "--once", "--timeout", "10"])
    assert code == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last)["reason"] == "granted"


def test_a_kiosk_tap_shows_the_holders_first_name_on_its_screen(live_server, tmp_path, card):
    reader, token = kiosk_reader_with_token()
    screen = reading_english(Client())
    paired_screen(screen, reader)
    with emulated_card(Chip(card.uid), hold_seconds=0.5) as emulated:
        config = agent_config(
            tmp_path, server_url=live_server.url, token=token, path=emulated.path, mode="kiosk"
        )
        with running_agent(config) as agent:
            idle = screen.get(f"/borne/{reader.public_id}/")
            assert "Tap your Sésame card" in idle.content.decode()
            emulated.tap()
            wait_for(lambda: agent.answers, what="the server's answer")
            poll = screen.get(
                f"/borne/{reader.public_id}/etat/", {"since": idle.context["state"].key}
            )
    assert agent.answers[0]["reason"] == "valid"
    text = poll.content.decode()
    assert f"Hello {card.holder.first_name}" in text
    assert "10 entries left" in text
    assert card.holder.last_name not in text


def test_the_agent_reports_its_state_and_keeps_a_snapshot(live_server, tmp_path, card):
    reader, token = reader_with_token()
    with emulated_card(Chip(card.uid)) as emulated:
        config = agent_config(
            tmp_path,
            server_url=live_server.url,
            token=token,
            path=emulated.path,
            heartbeat_seconds=1,
        )
        with running_agent(config) as agent:
            wait_for(lambda: agent.reader.connected, what="the reader open")
            threading.Thread(target=agent.housekeeping, daemon=True).start()
            wait_for(lambda: agent.gate.version is not None, what="a snapshot")
            wait_for(
                lambda: DeviceStatus.objects.filter(snapshot_version=agent.gate.version).exists(),
                what="a heartbeat naming the snapshot",
            )
    status = DeviceStatus.objects.get(reader=reader)
    assert status.reader_connected
    assert (status.agent_version, status.mode, status.last_error) == (__version__, "gate", "")
    assert agent.gate.payload["reader"]["id"] == reader.public_id


def test_the_raw_apdus_read_the_same_message_when_nfcpy_ndef_fails(
    live_server, tmp_path, card, monkeypatch
):
    monkeypatch.setattr(NfcReader, "_uri_from_ndef", staticmethod(lambda tag: None))
    _reader, token = reader_with_token()
    chip = Chip(card.uid)
    with emulated_card(chip) as emulated:
        config = agent_config(tmp_path, server_url=live_server.url, token=token, path=emulated.path)
        with running_agent(config) as agent:
            emulated.tap()
            wait_for(lambda: agent.answers, what="the server's answer")
    assert agent.answers[0]["reason"] == "granted"
    assert Tap.objects.get().counter == 1
