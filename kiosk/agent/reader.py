"""The NFC reader, through nfcpy: open it (and say clearly why it cannot be), wait for a Type
4A card, read its NDEF URI record over ISO 7816, tell when the card leaves.

Reading: nfcpy's own ``tag.ndef`` first (it selects the NDEF application D2760000850101, the
capability container E103, then the NDEF file E104 and reads NLEN and the data); when that
fails on a card, the same APDUs are sent by hand (SELECT by name, SELECT E104, READ BINARY)."""

from __future__ import annotations

import contextlib
import ctypes.util
import errno
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

NDEF_AID = bytes.fromhex("D2760000850101")
NDEF_FILE = bytes.fromhex("E104")
MAX_READ = 0xF0
LIBUSB_PACKAGE = "libusb-1.0-0"


class ReaderUnavailable(Exception):
    """The reader cannot be opened or was lost; the message is meant for the IT team."""


class CardLost(Exception):
    """The card left the field (or stopped answering) in the middle of a read."""


@dataclass(frozen=True)
class CardRead:
    """What was read from a card: its URI (None when it has none: a transport or bank card)."""

    uri: str | None
    tag_type: str
    uid: str  # the anticollision UID, for logs only (a Sésame card's UID is no secret)

    @property
    def is_sun(self) -> bool:
        return looks_like_sun_url(self.uri)


def looks_like_sun_url(uri: str | None) -> bool:
    """A Sésame card's URL carries its encrypted data (e=) and MAC (c=); anything else is
    another card (a transport card, a bank card, a poster's tag)."""
    if not uri:
        return False
    parts = urlsplit(uri)
    names = {pair.partition("=")[0] for pair in parts.query.split("&") if pair}
    return parts.scheme in {"http", "https"} and {"e", "c"} <= names


def explain_open_error(path: str, error: BaseException) -> str:
    text = str(error)
    libusb_missing = ctypes.util.find_library("usb-1.0") is None
    if path.startswith("usb") and (
        "libusb" in text or isinstance(error, ImportError) or libusb_missing
    ):
        return (
            f"libusb-1.0 is missing: install the Debian package {LIBUSB_PACKAGE} "
            f"(apt install {LIBUSB_PACKAGE}), then the agent opens the reader by itself"
        )
    if getattr(error, "errno", None) == errno.EACCES:
        return (
            f"no permission to open the reader on {path}: add the agent's user to the plugdev "
            "group (install.sh does) and re-plug the reader"
        )
    if getattr(error, "errno", None) == errno.EBUSY:
        return f"the reader on {path} is used by another process (a second agent? pcscd?)"
    if getattr(error, "errno", None) == errno.ENODEV or not text:
        return f"no reader found on {path}: is it plugged in?"
    return f"the reader on {path} cannot be opened: {text}"


def default_frontend_factory(path: str):
    import nfc  # imported here: unit tests of the agent do not need nfcpy

    return nfc.ContactlessFrontend(path)


class Reader:
    """One nfcpy ContactlessFrontend, opened on demand."""

    def __init__(self, path: str, *, factory: Callable[[str], object] = default_frontend_factory):
        self.path = path
        self.factory = factory
        self.clf = None

    @property
    def connected(self) -> bool:
        return self.clf is not None and getattr(self.clf, "device", None) is not None

    def open(self) -> None:
        try:
            self.clf = self.factory(self.path)
        except (OSError, ImportError) as error:
            self.clf = None
            raise ReaderUnavailable(explain_open_error(self.path, error)) from error
        if not self.connected:
            self.clf = None
            raise ReaderUnavailable(f"no reader found on {self.path}: is it plugged in?")

    def close(self) -> None:
        clf, self.clf = self.clf, None
        if clf is not None:
            with contextlib.suppress(Exception):  # the device may be gone already
                clf.close()

    def wait_for_card(self, *, until: float, stop: Callable[[], bool]):
        """The next Type 4A card in the field (an nfcpy Tag), or None at `until` or on stop.
        Raises ReaderUnavailable when the device went away."""
        if not self.connected:
            raise ReaderUnavailable(f"no reader on {self.path}")
        try:
            tag = self.clf.connect(
                rdwr={
                    "targets": ["106A"],  # ISO 14443-4 Type A, 106 kbit/s: NTAG 424 DNA
                    "on-connect": lambda tag: False,  # hand the tag back, do not wait here
                    "iterations": 1,
                    "interval": 0.05,
                    "beep-on-connect": False,
                },
                terminate=lambda: stop() or time.monotonic() >= until,
            )
        except OSError as error:
            self.close()
            raise ReaderUnavailable(explain_open_error(self.path, error)) from error
        if tag is False:  # nfcpy returns False when the device failed (it logged an IOError)
            self.close()
            raise ReaderUnavailable(f"the reader on {self.path} stopped answering (unplugged?)")
        if not self.connected:
            raise ReaderUnavailable(f"the reader on {self.path} was closed")
        return tag or None

    def read(self, tag) -> CardRead:
        """The card's URI. Raises CardLost when the card leaves mid-read."""
        import nfc.clf
        import nfc.tag.tt4

        uid = bytes(getattr(tag, "identifier", b"") or b"").hex().upper()
        if not isinstance(tag, nfc.tag.tt4.Type4Tag):
            return CardRead(None, getattr(tag, "TYPE", type(tag).__name__), uid)
        try:
            uri = self._uri_from_ndef(tag)
            if uri is None:
                uri = self._uri_from_apdus(tag)
        except (nfc.clf.CommunicationError, nfc.tag.tt4.Type4TagCommandError) as error:
            if not self._present(tag):
                raise CardLost(str(error)) from error
            uri = None
        return CardRead(uri, tag.TYPE, uid)

    @staticmethod
    def _present(tag) -> bool:
        try:
            return bool(tag.is_present)
        except Exception:
            return False

    @staticmethod
    def _uri_from_ndef(tag) -> str | None:
        ndef = tag.ndef
        if ndef is None:
            return None
        for record in ndef.records:
            # `iri`: the characters the card wrote; ndeflib's `uri` percent-encodes the query,
            # which would break the MAC.
            uri = getattr(record, "iri", None)
            if uri:
                return uri
        return None

    @staticmethod
    def _uri_from_apdus(tag) -> str | None:
        import nfc.tag.tt4

        try:
            tag.send_apdu(0x00, 0xA4, 0x04, 0x00, NDEF_AID, 256)
            tag.send_apdu(0x00, 0xA4, 0x00, 0x0C, NDEF_FILE)
        except nfc.tag.tt4.Type4TagCommandError as error:
            if error.errno > 0:  # an ISO 7816 status: no NDEF application, not our card
                return None
            raise
        nlen = int.from_bytes(bytes(tag.send_apdu(0x00, 0xB0, 0x00, 0x00, mrl=2)), "big")
        data = bytearray()
        while len(data) < nlen:
            offset = 2 + len(data)
            chunk = tag.send_apdu(
                0x00, 0xB0, offset >> 8, offset & 0xFF, mrl=min(MAX_READ, nlen - len(data))
            )
            if not chunk:
                return None
            data += chunk
        return uri_from_ndef_message(bytes(data))

    def wait_removed(self, tag, *, timeout: float, stop: Callable[[], bool]) -> bool:
        """True once the card left the field (False at the timeout or on stop)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end and not stop():
            if not self._present(tag):
                return True
            time.sleep(0.05)
        return False


def uri_from_ndef_message(data: bytes) -> str | None:
    import ndef  # ndeflib, installed with nfcpy

    try:
        for record in ndef.message_decoder(data):
            if isinstance(record, ndef.UriRecord):
                return record.iri
    except ndef.DecodeError:
        return None
    return None
