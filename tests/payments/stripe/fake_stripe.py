"""The Stripe API the tests talk to: localstripe, and a small front server for what it lacks.

The real `stripe` SDK is pointed at the front server (`base_addresses={"api": front.url}`). The
front answers itself the few endpoints localstripe does not implement and forwards every other
request, unchanged, to localstripe:

- Terminal readers (`/v1/terminal/readers/...`): retrieve, `process_payment_intent`,
  `cancel_action`, and Stripe's own test helper `present_payment_method`, which confirms the
  reader's PaymentIntent on localstripe with a test card, as a real reader would;
- disputes (`/v1/disputes/{id}`), created by a test through `open_dispute` and decided
  through `close_dispute`;
- the balance transactions of a payout (`/v1/balance_transactions?payout=`), which a test
  declares through `settle_payout` (each one is read from localstripe);
- idempotency keys: a POST repeating an `Idempotency-Key` gets the first answer again, as on
  Stripe; every request is kept in `requests` so a test can check the keys that were sent.

It is a test double for the HTTP API, not a mock of the SDK: the SDK builds, sends and parses
real requests. No request ever leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_KEY = "sk_test_sesame_fake"

# localstripe pickles its whole store to /tmp/localstripe.pickle after every write; two test
# workers would write the same file. Started from scratch, it never reads it: skip the writes.
_LOCALSTRIPE_MAIN = (
    "import sys\n"
    "from localstripe import resources\n"
    "resources.Store.dump_to_disk = lambda self: None\n"
    "from localstripe.server import start\n"
    "sys.argv = ['localstripe', '--port', sys.argv[1], '--from-scratch']\n"
    "start()\n"
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalStripe:
    """localstripe in a subprocess on a free port. `start` raises if it does not answer."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log = None

    def start(self, timeout: float = 20.0) -> None:
        # Its log goes to a file: a pipe nobody reads fills up and blocks the server mid-suite.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (kept open while the process runs)
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
            [sys.executable, "-c", _LOCALSTRIPE_MAIN, str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"localstripe exited at start: {self.log_tail()}")
            try:
                request = urllib.request.Request(  # noqa: S310 (loopback only)
                    f"{self.url}/v1/balance", headers={"Authorization": f"Bearer {API_KEY}"}
                )
                with urllib.request.urlopen(request, timeout=1):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"localstripe did not answer on port {self.port} within {timeout}s")

    def log_tail(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def ensure_running(self) -> None:
        """Start localstripe again, on a new port, if it stopped during the session (its state
        is lost: each test sets up its own objects). It once refused connections in a whole-suite
        run; the warning keeps what it printed, so a crash is seen rather than hidden."""
        if self.process is not None and self.process.poll() is None:
            return
        tail = self.log_tail() if self.process is not None else ""
        warnings.warn(f"localstripe had stopped; started again. It printed: {tail}", stacklevel=2)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.start()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.log is not None:
            self.log.close()


@dataclass
class SeenRequest:
    method: str
    path: str
    idempotency_key: str | None
    params: dict


@dataclass
class FakeState:
    readers: dict[str, dict] = field(default_factory=dict)
    disputes: dict[str, dict] = field(default_factory=dict)
    payout_transactions: dict[str, list[str]] = field(default_factory=dict)
    idempotent: dict[tuple[str, str], tuple[int, bytes]] = field(default_factory=dict)
    requests: list[SeenRequest] = field(default_factory=list)
    counter: int = 0

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter:014d}"


def _error(status: int, message: str, code: str | None = None) -> tuple[int, dict]:
    error = {"message": message, "type": "invalid_request_error"}
    if code:
        error["code"] = code
    return status, {"error": error}


class FakeStripe:
    """The front server. Thread-safe enough for a test: one lock around the state."""

    def __init__(self, backend: LocalStripe) -> None:
        self.backend = backend
        self.state = FakeState()
        self.lock = threading.RLock()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):  # noqa: A002 (the base class's signature)
                pass

            def do_GET(self):
                fake._safely(self, "GET")

            def do_POST(self):
                fake._safely(self, "POST")

            def do_DELETE(self):
                fake._safely(self, "DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what tests call --------------------------------------------------------------------

    def backend_request(self, method: str, path: str, params: dict | None = None) -> dict:
        """Call localstripe directly (form-encoded like the SDK), for test set-up."""
        encoded = _encode(params or {})
        if method == "GET":
            status, body = self._forward(method, path, b"", encoded)
        else:
            status, body = self._forward(method, path, encoded.encode(), "")
        data = json.loads(body)
        if status >= 400:
            raise AssertionError(f"localstripe {method} {path}: {status} {data}")
        return data

    def add_reader(self, reader_id: str | None = None, *, label: str = "Borne mairie") -> str:
        with self.lock:
            reader_id = reader_id or self.state.next_id("tmr_")
            self.state.readers[reader_id] = {
                "id": reader_id,
                "object": "terminal.reader",
                "device_type": "bbpos_wisepos_e",
                "label": label,
                "livemode": False,
                "location": "tml_sesame",
                "serial_number": f"WSC-{reader_id[-6:]}",
                "status": "online",
                "action": None,
                "metadata": {},
            }
            return reader_id

    def set_reader_offline(self, reader_id: str) -> None:
        with self.lock:
            self.state.readers[reader_id]["status"] = "offline"

    def open_dispute(self, *, payment_intent: str, amount: int, reason: str = "fraudulent") -> dict:
        intent = self.backend_request("GET", f"/v1/payment_intents/{payment_intent}")
        charge = intent["latest_charge"]
        with self.lock:
            dispute_id = self.state.next_id("dp_")
            dispute = {
                "id": dispute_id,
                "object": "dispute",
                "amount": amount,
                "currency": intent["currency"],
                "charge": charge["id"] if isinstance(charge, dict) else charge,
                "payment_intent": payment_intent,
                "reason": reason,
                "status": "needs_response",
                "created": int(time.time()),
                "livemode": False,
                "metadata": {},
            }
            self.state.disputes[dispute_id] = dispute
            return dict(dispute)

    def close_dispute(self, dispute_id: str, *, status: str) -> dict:
        """The bank's decision: `won`, `lost` (or `warning_closed` for an inquiry)."""
        with self.lock:
            self.state.disputes[dispute_id]["status"] = status
            return dict(self.state.disputes[dispute_id])

    def settle_payout(self, payout_id: str, transaction_ids: list[str]) -> None:
        """Declare which balance transactions (localstripe `txn_` ids) a payout carried."""
        with self.lock:
            self.state.payout_transactions[payout_id] = list(transaction_ids)

    def seen(self, method: str, path_prefix: str) -> list[SeenRequest]:
        with self.lock:
            return [
                r
                for r in self.state.requests
                if r.method == method and r.path.startswith(path_prefix)
            ]

    # --- the HTTP side ----------------------------------------------------------------------

    def _safely(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        """A bug in the fake answers 500 with its message (the SDK shows it) at once."""
        try:
            self._handle(handler, method)
        except Exception as error:  # noqa: BLE001
            status, data = _error(500, f"fake_stripe: {type(error).__name__}: {error}")
            _reply(handler, status, json.dumps(data).encode())

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        parsed = urllib.parse.urlsplit(handler.path)
        path, query = parsed.path, parsed.query
        params = _decode(body.decode() if method == "POST" else query)
        key = handler.headers.get("Idempotency-Key")
        with self.lock:
            self.state.requests.append(SeenRequest(method, path, key, params))
            if method == "POST" and key and (path, key) in self.state.idempotent:
                status, payload = self.state.idempotent[(path, key)]
                _reply(handler, status, payload, replayed=True)
                return

        if not handler.headers.get("Authorization", "").startswith("Bearer sk_"):
            status, data = _error(401, "Invalid API Key provided")
            payload = json.dumps(data).encode()
        else:
            local = self._local(method, path, params)
            if local is not None:
                status, data = local
                payload = json.dumps(data).encode()
            else:
                status, payload = self._forward(method, path, body, query)
        if method == "POST" and key and status < 500:
            with self.lock:
                self.state.idempotent[(path, key)] = (status, payload)
        _reply(handler, status, payload)

    def _local(self, method: str, path: str, params: dict) -> tuple[int, dict] | None:
        parts = path.strip("/").split("/")
        with self.lock:
            if parts[:3] == ["v1", "terminal", "readers"] and len(parts) >= 4:
                return self._reader(method, parts[3], parts[4:], params)
            if (
                parts[:4] == ["v1", "test_helpers", "terminal", "readers"]
                and parts[5:] == ["present_payment_method"]
                and method == "POST"
            ):
                return self._present(parts[4], params)
            if parts[:2] == ["v1", "disputes"] and len(parts) == 3 and method == "GET":
                dispute = self.state.disputes.get(parts[2])
                if dispute is None:
                    return _error(404, f"No such dispute: '{parts[2]}'", "resource_missing")
                return 200, dispute
            if path == "/v1/balance_transactions" and "payout" in params:
                return self._payout_transactions(params)
        return None

    def _reader(self, method: str, reader_id: str, rest: list[str], params: dict):
        reader = self.state.readers.get(reader_id)
        if reader is None:
            return _error(404, f"No such terminal.reader: '{reader_id}'", "resource_missing")
        if method == "GET" and not rest:
            return 200, reader
        if method == "POST" and rest == ["process_payment_intent"]:
            if reader["status"] != "online":
                return _error(400, "Reader is currently offline", "terminal_reader_offline")
            if reader["action"] and reader["action"]["status"] == "in_progress":
                return _error(409, "Reader is currently busy", "terminal_reader_busy")
            intent_id = params.get("payment_intent")
            status, body = self._forward("GET", f"/v1/payment_intents/{intent_id}", b"", "")
            if status != 200:
                return status, json.loads(body)
            reader["action"] = {
                "type": "process_payment_intent",
                "status": "in_progress",
                "failure_code": None,
                "failure_message": None,
                "process_payment_intent": {"payment_intent": intent_id},
            }
            return 200, reader
        if method == "POST" and rest == ["cancel_action"]:
            if not reader["action"] or reader["action"]["status"] != "in_progress":
                return _error(400, "Reader has no action in progress", "terminal_reader_busy")
            reader["action"] = None
            return 200, reader
        return _error(404, "Unrecognized request URL")

    def _present(self, reader_id: str, params: dict):
        """Stripe's test helper: a card is presented to the reader. The fake confirms the
        PaymentIntent on localstripe (pm_card_visa, or the card named by `card_present[number]`
        mapped to a localstripe test method), so the payment really happens there."""
        reader = self.state.readers.get(reader_id)
        if reader is None:
            return _error(404, f"No such terminal.reader: '{reader_id}'", "resource_missing")
        action = reader["action"]
        if not action or action["status"] != "in_progress":
            return _error(400, "Reader has no action in progress")
        intent_id = action["process_payment_intent"]["payment_intent"]
        declined = params.get("card_present", {}).get("number") == "4000000000000341"
        method = "pm_card_chargeCustomerFail" if declined else "pm_card_visa"
        self._forward(
            "POST",
            f"/v1/payment_intents/{intent_id}",
            _encode({"payment_method": method}).encode(),
            "",
        )
        status, _ = self._forward("POST", f"/v1/payment_intents/{intent_id}/confirm", b"", "")
        if status == 200:
            action["status"] = "succeeded"
        else:
            action.update(
                status="failed",
                failure_code="card_declined",
                failure_message="The card was declined.",
            )
        return 200, reader

    def _payout_transactions(self, params: dict):
        ids = self.state.payout_transactions.get(params["payout"], [])
        expand = params.get("expand", [])
        expand_source = "data.source" in (expand if isinstance(expand, list) else [expand])
        data = []
        for txn_id in ids:
            query = _encode({"expand": ["source"]}) if expand_source else ""
            path = f"/v1/balance_transactions/{txn_id}"
            status, body = self._forward("GET", path, b"", query)
            if status != 200:
                return status, json.loads(body)
            data.append(json.loads(body))
        return 200, {
            "object": "list",
            "data": data,
            "has_more": False,
            "url": "/v1/balance_transactions",
        }

    def _forward(self, method: str, path: str, body: bytes, query: str) -> tuple[int, bytes]:
        url = f"{self.backend.url}{path}" + (f"?{query}" if query else "")
        request = urllib.request.Request(url, data=body or None, method=method)  # noqa: S310
        request.add_header("Authorization", f"Bearer {API_KEY}")
        if body:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


def _reply(handler, status: int, payload: bytes, replayed: bool = False) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(payload)))
    handler.send_header("Request-Id", "req_fake")
    if replayed:
        handler.send_header("Idempotent-Replayed", "true")
    handler.end_headers()
    handler.wfile.write(payload)


def _decode(query: str) -> dict:
    """Stripe's form encoding (`a[b]=c`, `a[0]=x`) back to nested dicts and lists."""
    result: dict = {}
    for raw_key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        keys = raw_key.replace("]", "").split("[")
        node = result
        for part, following in zip(keys, keys[1:], strict=False):
            if following.isdigit() or following == "":
                node = node.setdefault(part, [])
            elif isinstance(node, list):
                index = int(part)
                while len(node) <= index:
                    node.append({})
                node = node[index]
            else:
                node = node.setdefault(part, {})
        last = keys[-1]
        if isinstance(node, list):
            node.append(value)
        else:
            node[last] = value
    return result


def _encode(params: dict, prefix: str = "") -> str:
    pairs: list[tuple[str, str]] = []

    def walk(value, key):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{key}[{k}]" if key else k)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{key}[{i}]")
        elif value is not None:
            pairs.append((key, str(value)))

    walk(params, prefix)
    return urllib.parse.urlencode(pairs)
