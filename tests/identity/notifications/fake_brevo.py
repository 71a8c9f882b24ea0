"""A local stand-in for Brevo's transactional SMS API, started by the tests on a free port
(never the network). It checks what Brevo checks — the `api-key` header, the JSON body, the
sender, a recipient of 6 to 15 digits with its country code — and answers like Brevo: 201 with
a `messageId`, 400/401 with `{"code", "message"}`. A test can make it fail the next calls
(`fail_next`) with a status of its choice, or stall past the client's timeout."""

import json
import re
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer

from tests.fake_http import serve_json

API_KEY = "xkeysib-test-key"


@dataclass
class FakeBrevo:
    url: str = ""
    received: list[dict] = field(default_factory=list)
    failures: list[int | str] = field(default_factory=list)  # an HTTP status, or "stall"
    next_id: int = 1511882900176220
    stall_seconds: float = 2.0

    def fail_next(self, *outcomes: int | str) -> None:
        self.failures.extend(outcomes)

    def answer(self, path: str, headers, raw: bytes) -> tuple[int, dict]:
        if path != "/v3/transactionalSMS/send":
            return 404, {"code": "not_found", "message": "Invalid path"}
        if headers.get("api-key") != API_KEY:
            return 401, {"code": "unauthorized", "message": "Key not found"}
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, {"code": "bad_request", "message": "Invalid JSON"}
        for name in ("sender", "recipient", "content"):
            if not isinstance(body.get(name), str) or not body[name]:
                return 400, {"code": "missing_parameter", "message": f"{name} is missing"}
        if not re.fullmatch(r"\d{6,15}", body["recipient"]):
            return 400, {
                "code": "invalid_parameter",
                "message": f"Invalid phone number {body['recipient']}",
            }
        if not re.fullmatch(r"[A-Za-z0-9 ]{3,11}|\d{3,15}", body["sender"]):
            return 400, {"code": "invalid_parameter", "message": "Invalid sender"}
        if self.failures:
            outcome = self.failures.pop(0)
            if outcome == "stall":
                time.sleep(self.stall_seconds)
            else:
                return int(outcome), {"code": "failure", "message": "Try later"}
        self.received.append(body)
        self.next_id += 1
        return 201, {"messageId": self.next_id}


def start_fake_brevo() -> tuple[FakeBrevo, ThreadingHTTPServer]:
    fake = FakeBrevo()

    server = serve_json(lambda _method, path, headers, body: fake.answer(path, headers, body))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/v3"
    return fake, server
