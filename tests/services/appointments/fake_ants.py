"""The ANTS coordination API ("API de dédoublonnage") the tests talk to: a small HTTP server on
127.0.0.1 with the three resources Sésame calls, as rdv-service-public's client and the
network's published documentation describe them:

- GET    /api/status?application_ids=N        → {N: {"status": …, "appointments": [...]}}
- POST   /api/appointments?application_id=N&meeting_point=…&meeting_point_id=…
         &appointment_date=YYYY-MM-DD HH:MM:SS&management_url=…   → {"success": true}
- DELETE /api/appointments?application_id=N&meeting_point=…&appointment_date=…  → {"rowcount": n}

Every request must carry the town's token in `x-rdv-opt-auth-token` (else 401). A test sets
each number's status (`numbers`), reads what was declared (`appointments`) and every request
received (`requests`), or takes the service down (`down`, a 503; `refuse_writes` for the
declarations and releases only). No request leaves the
machine."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TOKEN = "ants-coordination-test-token"


@dataclass
class FakeCoordination:
    numbers: dict[str, str] = field(default_factory=dict)  # number → status
    appointments: dict[str, list[dict]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict]] = field(default_factory=list)
    down: bool = False
    refuse_writes: bool = False  # declarations and releases answer 503, the status still 200
    url: str = ""

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {k: v if len(v) > 1 else v[0] for k, v in parse_qs(parts.query).items()}
                fake.requests.append((method, parts.path, query))
                if fake.down:
                    return self._answer(503, {"detail": "maintenance"})
                if fake.refuse_writes and method != "GET":
                    return self._answer(503, {"detail": "maintenance"})
                if self.headers.get("x-rdv-opt-auth-token") != TOKEN:
                    return self._answer(401, {"detail": "X-RDV-OPT-AUTH-TOKEN header invalid"})
                if method == "GET" and parts.path == "/api/status":
                    ids = query["application_ids"]
                    ids = ids if isinstance(ids, list) else [ids]
                    return self._answer(
                        200,
                        {
                            n: {
                                "status": fake.numbers.get(n, "unknown"),
                                "appointments": fake.appointments.get(n, []),
                            }
                            for n in ids
                        },
                    )
                if parts.path == "/api/appointments" and method == "POST":
                    number = query["application_id"]
                    if fake.numbers.get(number) != "validated":
                        return self._answer(400, {"detail": "application id not validated"})
                    fake.appointments.setdefault(number, []).append(
                        {
                            k: query.get(k)
                            for k in (
                                "meeting_point",
                                "meeting_point_id",
                                "appointment_date",
                                "management_url",
                            )
                        }
                    )
                    return self._answer(200, {"success": True})
                if parts.path == "/api/appointments" and method == "DELETE":
                    number = query["application_id"]
                    kept = [
                        a
                        for a in fake.appointments.get(number, [])
                        if (a["meeting_point"], a["appointment_date"])
                        != (query.get("meeting_point"), query.get("appointment_date"))
                    ]
                    removed = len(fake.appointments.get(number, [])) - len(kept)
                    fake.appointments[number] = kept
                    return self._answer(200, {"rowcount": removed})
                return self._answer(404, {"detail": "Not Found"})

            def do_GET(self) -> None:  # noqa: N802
                self._handle("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._handle("POST")

            def do_DELETE(self) -> None:  # noqa: N802
                self._handle("DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
