"""The antivirus scan through clamd when CLAMD_SOCKET is set. The EICAR test file goes to a
real clamd where the machine has one; the answers clamd gives (clean, found, down) are also
played by a socket speaking its INSTREAM protocol, to check what the safe does with each."""

import os
import socket
import struct
import threading

import pytest

from documents_vault import antivirus, inspection
from documents_vault.inspection import FileRefused
from tests.documents_vault.factories import EICAR, pdf_bytes

CLAMD_SOCKETS = [
    "/var/run/clamav/clamd.ctl",
    "/run/clamav/clamd.ctl",
    "/var/run/clamd.scan/clamd.sock",
]


def real_clamd() -> str | None:
    configured = os.environ.get("CLAMD_SOCKET")
    candidates = [configured] if configured else CLAMD_SOCKETS
    return next((path for path in candidates if path and os.path.exists(path)), None)


@pytest.mark.skipif(
    real_clamd() is None,
    reason="no clamd socket on this machine (set CLAMD_SOCKET, or install clamav-daemon)",
)
def test_the_eicar_file_is_refused_by_a_real_clamd(settings):
    settings.CLAMD_SOCKET = real_clamd()
    assert antivirus.scan(pdf_bytes()) is None
    with pytest.raises(FileRefused) as refused:
        inspection.inspect(EICAR, name="eicar.pdf")
    assert refused.value.code == "virus_found"


class FakeClamd:
    """A Unix socket answering INSTREAM with `answer` after reading the whole stream."""

    def __init__(self, path, answer: bytes | None):
        self.path, self.answer, self.received = path, answer, b""
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(1)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        connection, _address = self.server.accept()
        with connection:
            command = b""
            while not command.endswith(b"\0"):
                command += connection.recv(1)
            while True:
                (length,) = struct.unpack("!L", self._read(connection, 4))
                if length == 0:
                    break
                self.received += self._read(connection, length)
            if self.answer is not None:
                connection.sendall(self.answer)

    @staticmethod
    def _read(connection, size):
        data = b""
        while len(data) < size:
            data += connection.recv(size - len(data))
        return data


@pytest.fixture
def clamd_answering(settings, tmp_path):
    def start(answer):
        path = tmp_path / "clamd.sock"
        fake = FakeClamd(path, answer)
        settings.CLAMD_SOCKET = str(path)
        return fake

    return start


def test_a_clean_answer_lets_the_file_in(clamd_answering):
    fake = clamd_answering(b"stream: OK\0")
    content = pdf_bytes()
    assert inspection.inspect(content, name="a.pdf").content == content
    assert fake.received == content  # the original bytes were scanned


def test_a_signature_found_refuses_the_file(clamd_answering):
    clamd_answering(b"stream: Eicar-Signature FOUND\0")
    with pytest.raises(FileRefused) as refused:
        inspection.inspect(pdf_bytes(), name="a.pdf")
    assert refused.value.code == "virus_found"
    assert "Eicar-Signature" in refused.value.message


def test_no_verdict_refuses_the_file_rather_than_store_it_unscanned(clamd_answering, settings):
    clamd_answering(None)  # reads, then hangs up without answering
    with pytest.raises(FileRefused) as refused:
        inspection.inspect(pdf_bytes(), name="a.pdf")
    assert refused.value.code == "scan_unavailable"
    settings.CLAMD_SOCKET = "/nonexistent/clamd.sock"
    with pytest.raises(FileRefused):
        inspection.inspect(pdf_bytes(), name="a.pdf")


def test_without_clamd_socket_no_scan_is_made(settings):
    settings.CLAMD_SOCKET = ""
    assert not antivirus.is_enabled()
