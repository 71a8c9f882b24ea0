"""An antivirus scan of every upload through clamd, when CLAMD_SOCKET is set (a Unix socket
path, or host:port). clamd's INSTREAM command: the bytes in length-prefixed chunks, then a
zero-length chunk; clamd answers "stream: OK" or "stream: <signature> FOUND"."""

import socket
import struct

from django.conf import settings

CHUNK = 64 * 1024
TIMEOUT_SECONDS = 30


class ScanUnavailable(Exception):
    """clamd is configured but could not scan (down, refused, size limit, garbled answer)."""


def is_enabled() -> bool:
    return bool(settings.CLAMD_SOCKET)


def _connect(address: str) -> socket.socket:
    if address.startswith("/") or ":" not in address:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target: object = address
    else:
        host, _sep, port = address.rpartition(":")
        connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        target = (host.strip("[]"), int(port))
    connection.settimeout(TIMEOUT_SECONDS)
    connection.connect(target)
    return connection


def scan(data: bytes, *, address: str | None = None) -> str | None:
    """The signature clamd found in `data`, or None when it is clean. Raises ScanUnavailable
    when no verdict could be had: the caller refuses the file rather than store it unscanned."""
    address = address or settings.CLAMD_SOCKET
    try:
        with _connect(address) as connection:
            connection.sendall(b"zINSTREAM\0")
            for start in range(0, len(data), CHUNK):
                chunk = data[start : start + CHUNK]
                connection.sendall(struct.pack("!L", len(chunk)) + chunk)
            connection.sendall(struct.pack("!L", 0))
            answer = b""
            while not answer.endswith(b"\0"):
                received = connection.recv(4096)
                if not received:
                    break
                answer += received
    except (OSError, ValueError) as error:
        raise ScanUnavailable(str(error)) from error
    text = answer.rstrip(b"\0").decode("utf-8", "replace").strip()
    if text.endswith(" OK"):
        return None
    if text.endswith(" FOUND"):
        return text.removeprefix("stream:").removesuffix("FOUND").strip()
    raise ScanUnavailable(text or "no answer")
