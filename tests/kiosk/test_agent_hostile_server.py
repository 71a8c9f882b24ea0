"""The agent against a broken or hostile server: whatever comes back (not JSON, not an object,
a huge body, wrong types, a garbled status line), the agent logs it and goes on — it never
crashes, and never holds an endless answer in memory."""

import http.server
import socket
import threading

import pytest

from kiosk.agent import client as client_module
from kiosk.agent.agent import Agent
from kiosk.agent.client import Client, ServerRefused, ServerUnavailable
from kiosk.agent.printer import Printer
from tests.kiosk.factories import agent_config

TOKEN = "rdr_abcdefgh_secret"


class Hostile(http.server.BaseHTTPRequestHandler):
    """Answers every request with `body` and `status`."""

    body = b""
    status = 200
    requests: list = []

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        type(self).requests.append((self.command, self.path, self.rfile.read(length)))
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(type(self).body)))
        self.end_headers()
        self.wfile.write(type(self).body)

    do_GET = do_POST = _answer  # noqa: N815 - http.server's naming

    def log_message(self, *args):
        pass


@pytest.fixture
def hostile():
    Hostile.body, Hostile.status, Hostile.requests = b"", 200, []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def quick_client(url: str) -> Client:
    return Client(url, TOKEN, timeout=2, retries=0, sleep=lambda s: None)


@pytest.mark.parametrize(
    "body",
    [b"<html>502</html>", b"[1, 2]", b'"text"', b"42", b"null", b"[" * 100_000, b"\xff\xfe"],
)
def test_an_answer_that_is_not_a_json_object_is_server_unavailable(hostile, body):
    Hostile.body = body
    with pytest.raises(ServerUnavailable):
        quick_client(hostile).heartbeat({})
    with pytest.raises(ServerUnavailable):
        quick_client(hostile).print_jobs()
    with pytest.raises(ServerUnavailable):
        quick_client(hostile).upload_batch([{"tap_id": "t"}])


def test_a_4xx_whose_body_is_not_an_object_is_still_a_refusal(hostile):
    Hostile.body, Hostile.status = b"[1]", 400
    with pytest.raises(ServerRefused) as refused:
        quick_client(hostile).tap(credential="x", tap_id="t", at="2026-01-01T10:00+01:00")
    assert refused.value.body == {}


def test_a_huge_answer_is_not_read_whole(hostile, monkeypatch):
    monkeypatch.setattr(client_module, "MAX_ANSWER_BYTES", 1000)
    Hostile.body = b'{"jobs": "' + b"x" * 5000 + b'"}'
    with pytest.raises(ServerUnavailable, match="too large"):
        quick_client(hostile).print_jobs()


@pytest.mark.parametrize(
    "body",
    [b'{"jobs": "many"}', b'{"results": {"a": 1}}', b'{"results": [1, 2]}'],
)
def test_wrong_types_inside_an_object_are_server_unavailable(hostile, body):
    Hostile.body = body
    client = quick_client(hostile)
    call = client.print_jobs if b"jobs" in body else lambda: client.upload_batch([{"tap_id": "t"}])
    with pytest.raises(ServerUnavailable):
        call()


def test_a_garbled_status_line_is_server_unavailable():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def garble():
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        connection.close()

    threading.Thread(target=garble, daemon=True).start()
    try:
        with pytest.raises(ServerUnavailable):
            quick_client(f"http://127.0.0.1:{listener.getsockname()[1]}").heartbeat({})
    finally:
        listener.close()


class Recording:
    """A client whose print jobs are garbage; records what the printer answers."""

    def __init__(self, jobs):
        self.jobs = jobs
        self.done = []

    def print_jobs(self):
        return self.jobs

    def print_done(self, job_id, *, ok, error=""):
        self.done.append((job_id, ok))


def test_malformed_print_jobs_are_skipped_or_refused_never_a_crash(tmp_path):
    printer = Printer("receipts", command="true")
    client = Recording(
        [
            "not a job",
            {"pdf_base64": "AAAA"},  # no id
            {"id": "../../taps", "pdf_base64": "AAAA"},  # an id that is not one
            {"id": "a" * 5000, "pdf_base64": "AAAA"},
            {"id": "job1", "pdf_base64": 5},  # not base64 text
            {"id": "job2"},  # no PDF
        ]
    )
    assert printer.serve(client) == 0
    assert client.done == [("job1", False), ("job2", False)]


def test_the_housekeeping_loop_survives_a_garbled_server(tmp_path, hostile):
    """Every housekeeping step meets garbage; the loop logs and carries on (here: stopped from
    outside after a few rounds, still alive)."""
    Hostile.body = b'{"reader": 5, "results": "x", "jobs": [{"id": 5}]}'
    config = agent_config(
        tmp_path, server_url=hostile, token=TOKEN, path="udp:127.0.0.1:9", mode="gate"
    )
    agent = Agent(config)
    agent.queue.append(
        {"tap_id": "t1", "credential": "c", "reader_time": "x", "offline_granted": True}
    )
    agent.printer = Printer("receipts", command="true")
    calls = []

    def garbage_snapshot():
        calls.append("snapshot")
        raise KeyError("key_id")

    agent.refresh_snapshot = garbage_snapshot
    thread = threading.Thread(target=agent.housekeeping, daemon=True)
    thread.start()
    thread.join(timeout=1.5)
    assert thread.is_alive()  # an exception would have ended the thread
    agent.stop()
    thread.join(timeout=3)
    assert calls  # reached after the heartbeat and the upload met garbage
    assert len(agent.queue) == 1  # nothing dropped on an answer it could not understand


def test_a_snapshot_key_without_an_id_is_not_pinned(tmp_path):
    from kiosk.agent.offline import OfflineGate, SnapshotRefused

    gate = OfflineGate(tmp_path)
    with pytest.raises(SnapshotRefused):
        gate.pin({"algorithm": "Ed25519", "public_key": "AAAA"})
    with pytest.raises(SnapshotRefused):
        gate.pin({"algorithm": "Ed25519"})
    assert gate.pinned_key is None


@pytest.mark.parametrize(
    ("body", "status"), [(b"[]", 200), (b'{"algorithm": "Ed25519"}', 200), (b"", 503)]
)
def test_pinning_the_key_from_a_garbled_server_fails_cleanly(tmp_path, hostile, body, status):
    from kiosk.agent.__main__ import main

    Hostile.body, Hostile.status = body, status
    config = tmp_path / "agent.toml"
    config.write_text(
        f'[server]\nurl = "{hostile}"\ntoken = "{TOKEN}"\nretries = 0\n'
        f'[agent]\nstate_dir = "{tmp_path / "state"}"\n'
    )
    assert main(["--config", str(config), "--pin-key"]) == 1
    assert not (tmp_path / "state" / "snapshot-key.json").exists()


class ExplodingReader:
    """A reader whose driver fails with the card's URL in its message (nfcpy's NDEF decoding
    errors quote what they read)."""

    connected = True
    url = "https://sesame.example.fr/c/?picc_data=0123456789ABCDEF&cmac=FEDCBA9876543210"

    def __init__(self, agent_holder):
        self.agent_holder = agent_holder

    def open(self):
        pass

    def close(self):
        pass

    def wait_for_card(self, *, until, stop):
        self.agent_holder[0].stop()  # one round only
        return object()

    def read(self, tag):
        raise RuntimeError(f"cannot decode {self.url}")


def test_an_unforeseen_error_is_logged_without_its_message(tmp_path, caplog):
    holder = []
    config = agent_config(
        tmp_path, server_url="http://127.0.0.1:9", token=TOKEN, path="udp:127.0.0.1:9"
    )
    reader = ExplodingReader(holder)
    agent = Agent(config, reader=reader)
    holder.append(agent)
    with caplog.at_level("DEBUG", logger="sesame"):
        agent.run()
    logged = " ".join(str(getattr(r, "fields", "")) + r.getMessage() for r in caplog.records)
    assert "unexpected RuntimeError" in agent.last_error
    assert "picc_data" not in logged
    assert "picc_data" not in agent.last_error


def test_a_refused_tap_stays_refused_whatever_the_body_says(tmp_path, hostile):
    Hostile.body, Hostile.status = b'{"code": "invalid_credential", "granted": true}', 400
    config = agent_config(
        tmp_path, server_url=hostile, token=TOKEN, path="udp:127.0.0.1:9", retries=0
    )
    answer = Agent(config).present("https://sesame.example.fr/c/?picc_data=00&cmac=00")
    assert (answer["granted"], answer["reason"]) == (False, "invalid_credential")
