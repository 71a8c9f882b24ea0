"""A local HTTP server that answers JSON, for the fakes of the outside APIs Sésame speaks to
(Brevo, API Particulier…): tests never reach the network."""

import json
import threading
from collections.abc import Callable
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# answer(method, path, headers, body) -> (status, JSON body)
Answer = Callable[[str, str, Message, bytes], tuple[int, object]]


def serve_json(answer: Answer) -> ThreadingHTTPServer:
    """Start a server on a free port of 127.0.0.1 (its `server_address` tells which) that hands
    each GET and POST to `answer`; shut it down with `server.shutdown()`."""

    class Handler(BaseHTTPRequestHandler):
        def _handle(self, method: str) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
            status, body = answer(method, self.path, self.headers, raw)
            payload = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                pass

        def do_GET(self):
            self._handle("GET")

        def do_POST(self):
            self._handle("POST")

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
