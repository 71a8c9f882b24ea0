"""The agent's parts on their own: configuration, retries with the same tap id, the durable
queue, the offline decision's carried SUN module, the messages an IT team reads."""

import http.server
import json
import threading
import time
from pathlib import Path

import pytest

from kiosk.agent import offline, reader
from kiosk.agent.client import Client, ServerRefused, ServerUnavailable
from kiosk.agent.config import ConfigError, load_config, parse_config

TOKEN = "rdr_abcdefgh_secret"


# --- configuration ---------------------------------------------------------------------------
def test_a_minimal_config_gets_the_defaults(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text(f'[server]\nurl = "https://sesame.example.fr/"\ntoken = "{TOKEN}"\n')
    config = load_config(path)
    assert config.server_url == "https://sesame.example.fr"
    assert (config.reader_path, config.mode, config.retries, config.timeout) == (
        "usb",
        "gate",
        3,
        5.0,
    )
    assert config.state_dir == Path("/var/lib/sesame-agent")
    assert config.decides_offline
    assert TOKEN not in repr(config)


def test_the_token_can_live_in_its_own_file(tmp_path):
    (tmp_path / "token").write_text(TOKEN + "\n")
    path = tmp_path / "agent.toml"
    path.write_text('[server]\nurl = "http://127.0.0.1:8000"\ntoken_file = "token"\n')
    assert load_config(path).token == TOKEN


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"server": {"url": "ftp://x", "token": TOKEN}}, "server.url"),
        ({"server": {"url": "https://x"}}, "reader token"),
        ({"server": {"url": "https://x", "token": TOKEN}, "reader": {"mode": "tv"}}, "reader.mode"),
        ({"server": {"url": "https://x", "token": TOKEN}, "reader": {"path": "x"}}, "reader.path"),
        ({"server": {"url": "https://x", "token": TOKEN, "timeout": "5"}}, "server.timeout"),
        ({"server": {"url": "https://x", "token": TOKEN, "retries": 99}}, "server.retries"),
        ({"server": {"url": "https://x", "token": TOKEN}, "printers": {}}, "unknown section"),
    ],
)
def test_a_bad_config_says_which_key(data, message, monkeypatch):
    monkeypatch.delenv("SESAME_AGENT_TOKEN", raising=False)
    with pytest.raises(ConfigError, match=message):
        parse_config(data)


def test_a_missing_or_broken_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no configuration file"):
        load_config(tmp_path / "nope.toml")
    (tmp_path / "bad.toml").write_text("[server\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path / "bad.toml")


# --- retries ---------------------------------------------------------------------------------
class SlowThenFine(http.server.BaseHTTPRequestHandler):
    """Answers the first `slow` requests too late (the client times out), then 200."""

    bodies: list = []
    slow = 2

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).bodies.append(body)
        if len(type(self).bodies) <= type(self).slow:
            time.sleep(0.4)
        answer = json.dumps({"tap_id": body["tap_id"], "granted": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_server():
    SlowThenFine.bodies = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowThenFine)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_slow_server_is_retried_with_the_same_tap_id(slow_server):
    pauses = []
    client = Client(slow_server, TOKEN, timeout=0.2, retries=3, backoff=0.1, sleep=pauses.append)
    answer = client.tap(
        credential="https://x/c/?e=0&c=0", tap_id="tap-1", at="2026-01-01T10:00+01:00"
    )
    assert answer == {"tap_id": "tap-1", "granted": True}
    assert [body["tap_id"] for body in SlowThenFine.bodies] == ["tap-1"] * 3
    assert pauses == [0.1, 0.2]  # a growing pause between attempts


def test_retries_are_bounded(slow_server):
    SlowThenFine.slow = 10
    try:
        client = Client(slow_server, TOKEN, timeout=0.1, retries=1, backoff=0, sleep=lambda s: None)
        with pytest.raises(ServerUnavailable):
            client.tap(credential="x", tap_id="tap-2", at="2026-01-01T10:00+01:00")
        # The client gave up after its 0.1 s timeouts; on a loaded machine the server's thread
        # may read the last body later than that, so wait for it before counting.
        deadline = time.monotonic() + 5
        while len(SlowThenFine.bodies) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        assert len(SlowThenFine.bodies) == 2
    finally:
        SlowThenFine.slow = 2


def test_a_4xx_is_not_retried(monkeypatch):
    calls = []
    client = Client("http://127.0.0.1:9", TOKEN, retries=3, sleep=lambda s: None)

    def refuse(*args, **kwargs):
        calls.append(args)
        raise ServerRefused(400, {"code": "clock_skew"})

    monkeypatch.setattr(client, "_request", refuse)
    with pytest.raises(ServerRefused):
        client.tap(credential="x", tap_id="t", at="2026-01-01T10:00+01:00")
    assert len(calls) == 1


# --- the durable queue -----------------------------------------------------------------------
def queued(tap_id: str) -> dict:
    return {
        "tap_id": tap_id,
        "credential": "https://x/c/?e=00&c=00",
        "reader_time": "2026-11-25T18:04:11+01:00",
        "offline_granted": True,
    }


def test_the_queue_survives_a_restart_and_a_torn_last_line(tmp_path):
    path = tmp_path / "queue.jsonl"
    offline.TapQueue(path).append(queued("a"))
    offline.TapQueue(path).append(queued("b"))
    with path.open("a") as handle:
        handle.write('{"tap_id": "c", "cred')  # power cut in the middle of a write
    assert [tap["tap_id"] for tap in offline.TapQueue(path).pending()] == ["a", "b"]


class FakeServer:
    def __init__(self, answer_only: int | None = None, fail: bool = False):
        self.batches = []
        self.answer_only = answer_only
        self.fail = fail

    def upload_batch(self, taps):
        self.batches.append([tap["tap_id"] for tap in taps])
        if self.fail:
            raise ServerUnavailable("down")
        answered = taps if self.answer_only is None else taps[: self.answer_only]
        return [{"tap_id": t["tap_id"], "granted": True, "honoured": True} for t in answered]


def test_the_queue_drops_a_tap_only_once_the_server_answered_it(tmp_path):
    queue = offline.TapQueue(tmp_path / "queue.jsonl")
    for tap_id in "abc":
        queue.append(queued(tap_id))
    with pytest.raises(ServerUnavailable):
        queue.upload(FakeServer(fail=True))
    assert len(queue) == 3
    server = FakeServer()
    assert [r["tap_id"] for r in queue.upload(server)] == ["a", "b", "c"]
    assert len(queue) == 0


def test_the_queue_uploads_in_batches_of_500(tmp_path):
    path = tmp_path / "queue.jsonl"
    path.write_text("".join(json.dumps(queued(f"t{n}")) + "\n" for n in range(1001)))
    queue = offline.TapQueue(path)
    server = FakeServer()
    queue.upload(server)
    assert [len(batch) for batch in server.batches] == [500, 500, 1]


# --- the snapshot ----------------------------------------------------------------------------


def test_a_snapshot_needs_the_pinned_key_and_a_newer_version(tmp_path, db):
    from datetime import timedelta

    from django.utils import timezone

    from card import snapshot as server_snapshot
    from tests.factories import CardFactory, reader_with_token

    CardFactory()
    reader, _token = reader_with_token()
    gate = offline.OfflineGate(tmp_path)
    now = timezone.now()
    first = server_snapshot.build_snapshot(reader=reader, now=now - timedelta(minutes=1))
    with pytest.raises(offline.SnapshotRefused, match="no_pinned_key"):
        gate.accept_snapshot(first, now=now)
    gate.pin(server_snapshot.public_key_info())
    gate.accept_snapshot(first, now=now)
    older = server_snapshot.build_snapshot(reader=reader, now=now - timedelta(minutes=2))
    with pytest.raises(offline.SnapshotRefused, match="older_version"):
        gate.accept_snapshot(older, now=now)
    tampered = server_snapshot.build_snapshot(reader=reader, now=now)
    tampered["payload"]["cards"][0]["last_counter"] = -1
    tampered["payload"]["version"] = "99999999"
    with pytest.raises(offline.SnapshotRefused, match="bad_signature"):
        gate.accept_snapshot(tampered, now=now)
    with pytest.raises(offline.SnapshotRefused, match="expired"):
        gate.accept_snapshot(
            server_snapshot.build_snapshot(reader=reader, now=now), now=now + timedelta(days=2)
        )
    gate.expected_reader = "someone-else"
    with pytest.raises(offline.SnapshotRefused, match="other_reader"):
        gate.accept_snapshot(server_snapshot.build_snapshot(reader=reader, now=now), now=now)


# --- what the IT team reads ------------------------------------------------------------------
def test_a_missing_libusb_names_the_debian_package():
    error = FileNotFoundError(2, "cannot find a suitable libusb-1.0: ['libusb-1.0.so.0']")
    message = reader.explain_open_error("usb", error)
    assert "libusb-1.0-0" in message
    assert "apt install" in message


def test_an_absent_reader_says_so():
    message = reader.explain_open_error("udp:127.0.0.1:9", OSError(19, "No such device"))
    assert "is it plugged in?" in message


def test_sun_urls_and_other_uris_are_told_apart():
    assert reader.looks_like_sun_url("https://sesame.example.fr/c/?e=00AB&c=0011")
    assert not reader.looks_like_sun_url("https://www.example.org/")
    assert not reader.looks_like_sun_url("tel:+33123456789")
    assert not reader.looks_like_sun_url(None)


def test_logs_are_json_lines_with_ids_only(capsys):
    from kiosk.agent import logs

    logs.setup()
    try:
        logs.log("tap", tap_id="abc", granted=True)
        line = capsys.readouterr().err.strip().splitlines()[-1]
    finally:
        import logging

        logging.getLogger("sesame").handlers[:] = []
        logging.getLogger("sesame").propagate = True
    entry = json.loads(line)
    assert (entry["event"], entry["tap_id"], entry["level"]) == ("tap", "abc", "info")


def test_the_shipped_config_template_parses(monkeypatch):
    import tomllib

    root = Path(__file__).resolve().parents[2]
    data = tomllib.loads((root / "kiosk/agent/agent.toml.example").read_text())
    data["server"].pop("token_file")
    monkeypatch.setenv("SESAME_AGENT_TOKEN", TOKEN)
    config = parse_config(data)
    assert (config.mode, config.reader_path, config.token) == ("gate", "usb", TOKEN)


def test_the_agent_requirements_name_nfcpy_and_what_it_imports():
    root = Path(__file__).resolve().parents[2]
    pins = {
        line.split("==")[0].lower()
        for line in (root / "kiosk/agent/requirements.txt").read_text().splitlines()
        if "==" in line
    }
    assert {"nfcpy", "ndeflib", "libusb1", "cryptography"} <= pins
