"""An emulated NTAG 424 DNA-like Type 4A card over nfcpy's UDP driver, for tests, the demo
(`make kiosk-demo`) and the benchmark: no hardware needed.

The card answers the reader's anticollision (nfcpy's UDP driver does that part: SENS_RES,
SDD_RES for a 7-byte UID, SEL_RES 0x20 = ISO-DEP), then ISO-DEP (RATS → ATS, I-blocks with
their block numbers, R(NAK) presence checks, S(DESELECT)) and the ISO 7816 commands an NFC
Forum Type 4 reader sends: SELECT the NDEF application by name D2760000850101, SELECT the
capability container E103 or the NDEF file E104, READ BINARY. Each tap serves a FRESH URL
from `url_source` (a SUN URL with the next counter, like the chip's SDM mirroring).

Timing (learnt the hard way):

- nfcpy's `clf.listen` closes and re-binds the card's UDP socket each time; a reader poll
  landing in that gap is lost and the reader waits a full second. So the card keeps its
  socket bound for its whole life and calls the driver's listen step itself; while out of the
  field it drains the reader's polls, and when it enters the field it answers the latest
  poll still waited for (the reader listens for one second after each SENS_REQ), as a real
  card answers the next REQA.
- The card leaves the field by sending b"RFOFF" to the reader (nfcpy's link-loss signal), so
  the reader's presence check sees it gone at once; `stop()` sends b"RFOFF" to the card's own
  port to end a wait."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import ndef
import nfc
import nfc.clf

NDEF_AID = bytes.fromhex("D2760000850101")
CC_FILE = bytes.fromhex("E103")
NDEF_FILE = bytes.fromhex("E104")
NDEF_FILE_SIZE = 256
MAX_LE = 0xF0  # one frame: no response chaining needed
# CCLEN 15, mapping 2.0, MLe, MLc, NDEF file control TLV: E104, 256 bytes, read free, no write.
CAPABILITY_CONTAINER = (
    bytes.fromhex("000F20")
    + MAX_LE.to_bytes(2, "big")
    + MAX_LE.to_bytes(2, "big")
    + bytes.fromhex("0406")
    + NDEF_FILE
    + NDEF_FILE_SIZE.to_bytes(2, "big")
    + bytes.fromhex("00FF")
)
# ATS: TL, T0 (TA, TB, TC present; FSCI 8 = 256 bytes), TA, TB (FWI 10: ~0.3 s), TC.
ATS = bytes.fromhex("0578809002")
SENS_RES = bytes.fromhex("4403")  # ATQA 0x0344, NTAG 424 DNA: double-size UID
SEL_RES = bytes.fromhex("20")  # ISO/IEC 14443-4 compliant
SW_OK = b"\x90\x00"
SW_NOT_FOUND = b"\x6a\x82"
SW_WRONG_PARAMS = b"\x6b\x00"
SW_NOT_SUPPORTED = b"\x6d\x00"
SW_NOT_ALLOWED = b"\x69\x86"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ndef_uri_message(uri: str) -> bytes:
    return b"".join(ndef.message_encoder([ndef.UriRecord(uri)]))


@dataclass
class TapResult:
    """What the card did during one presentation."""

    uri: str | None = None
    served: bool = False  # the whole NDEF file was read
    apdus: int = 0
    entered_at: float = 0.0  # time.perf_counter() when the card entered the field
    left_at: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)


class EmulatedCard:
    """One card on `udp:<host>:<port>`; the reader opens the same path.

    `url_source()` is called once per tap (when the reader selects the NDEF file) and returns
    the URL the card emits; None emulates a card without any NDEF application (a bank card).
    `tap()` presents the card once and waits until the reader has read it."""

    def __init__(
        self,
        *,
        port: int,
        uid: bytes,
        url_source: Callable[[], str | None],
        host: str = "127.0.0.1",
        hold_seconds: float = 0.05,
    ):
        if len(uid) != 7:
            raise ValueError("a NTAG 424 DNA UID is 7 bytes")
        self.host, self.port, self.uid = host, port, uid
        self.url_source = url_source
        self.hold_seconds = hold_seconds
        self.clf = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._ready = threading.Event()
        self._request: TapResult | None = None
        self._pull_after: int | None = None
        self._wake = threading.Event()
        self._last_poll: tuple[float, tuple] | None = None

    # --- harness API -----------------------------------------------------------------------
    @property
    def path(self) -> str:
        return f"udp:{self.host}:{self.port}"

    def start(self) -> EmulatedCard:
        self._thread = threading.Thread(target=self._run, name=f"card-{self.port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError(f"the emulated card could not bind UDP port {self.port}")
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as poke:
            poke.sendto(b"RFOFF", (self.host, self.port))
        if self._thread is not None:
            self._thread.join(5)
        if self.clf is not None:
            self.clf.close()

    def __enter__(self) -> EmulatedCard:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def present(self, *, pull_after_apdus: int | None = None) -> TapResult:
        """Put the card in the field (returns at once); `result.done` is set when it left.
        With `pull_after_apdus`, the card leaves after that many APDUs: pulled mid-read."""
        result = TapResult(entered_at=time.perf_counter())
        self._pull_after = pull_after_apdus
        self._request = result
        self._wake.set()
        return result

    def tap(self, *, timeout: float = 10.0, pull_after_apdus: int | None = None) -> TapResult:
        result = self.present(pull_after_apdus=pull_after_apdus)
        if not result.done.wait(timeout):
            raise TimeoutError("the reader did not read the card")
        return result

    # --- the card's thread -----------------------------------------------------------------
    def _target(self):
        target = nfc.clf.LocalTarget("106A")
        target.sens_res = bytearray(SENS_RES)
        target.sdd_res = bytearray(self.uid)
        target.sel_res = bytearray(SEL_RES)
        return target

    def _run(self) -> None:
        self.clf = nfc.ContactlessFrontend(self.path)
        device = self.clf.device
        device._create_socket()  # the driver's own socket, bound once for the card's life
        if not device._bind_socket(time.time() + 2):
            return
        self._ready.set()
        while not self._stopped.is_set():
            request = self._request
            if request is None:
                self._drain(device)
                continue
            try:
                self._presentation(device, request)
            finally:
                request.left_at = time.perf_counter()
                self._request = None
                request.done.set()

    def _drain(self, device) -> None:
        """Out of the field: read what the reader sends and remember its latest poll."""
        try:
            brty, data, addr = device._recv_data(0.02, "106A")
        except nfc.clf.CommunicationError:
            return
        if bytes(data) == b"\x26":
            self._last_poll = (time.monotonic(), (brty, data, addr))

    def _presentation(self, device, request: TapResult) -> None:
        """In the field until the NDEF file was read (then `hold_seconds` more), the reader
        gives up for 10 s, or the harness pulls the card."""
        give_up = time.time() + 10
        while not self._stopped.is_set() and time.time() < give_up:
            init = None
            poll = self._last_poll
            self._last_poll = None
            if poll is not None and time.monotonic() - poll[0] < 0.9:
                init = poll[1]  # the reader is still listening for an answer to this poll
            target = device._listen_tta(self._target(), min(give_up, time.time() + 1.5), init)
            if target is None or not target.tt4_cmd or target.tt4_cmd[0] != 0xE0:
                continue
            with self.clf.lock:
                self.clf.target = target
            if self._session(device, target, request):
                return

    def _leave(self, device, target) -> None:
        device.socket.sendto(b"RFOFF", target._addr)

    def _session(self, device, target, request: TapResult) -> bool:
        """One ISO-DEP session; True when the card is done (read, or pulled)."""
        state = {"selected_app": False, "file": None, "uri_bytes": None}
        response = ATS  # the answer to RATS
        last_block = None
        hold_until = None
        while not self._stopped.is_set():
            timeout = 1.0
            if hold_until is not None:
                timeout = hold_until - time.time()
                if timeout <= 0:
                    self._leave(device, target)
                    return True
            try:
                command = self.clf.exchange(bytearray(response) if response else None, timeout)
            except nfc.clf.BrokenLinkError:
                return request.served  # the reader switched its field off
            except nfc.clf.CommunicationError:
                if hold_until is not None:
                    self._leave(device, target)
                    return True
                return False  # the reader went quiet mid-session: stay in the field
            if command is None:
                return request.served
            command = bytes(command)
            pcb = command[0]
            if pcb & 0xE2 == 0x02:  # I-block: answer with the same block number
                request.apdus += 1
                if self._pull_after is not None and request.apdus > self._pull_after:
                    self._leave(device, target)  # pulled away before answering
                    return True
                payload = self._apdu(command[1:], state, request)
                response = bytes([0x02 | (pcb & 0x01)]) + payload
                last_block = response
                if request.served and hold_until is None:
                    hold_until = time.time() + self.hold_seconds
            elif pcb & 0xF6 == 0xB2:  # R(NAK): resend our last block, or acknowledge
                if last_block is not None and (pcb & 0x01) == (last_block[0] & 0x01):
                    response = last_block
                else:
                    response = bytes([0xA2 | (pcb & 0x01)])
            elif pcb & 0xF6 == 0xA2:  # R(ACK)
                response = bytes([0xA2 | (pcb & 0x01)])
            elif pcb & 0xF7 == 0xC2:  # S(DESELECT)
                response = bytes([0xC2])
                self.clf.exchange(bytearray(response), 0)
                return request.served
            else:
                response = None  # not for us: keep silent, as a card does
        return True

    def _apdu(self, apdu: bytes, state: dict, request: TapResult) -> bytes:
        if len(apdu) < 4:
            return SW_WRONG_PARAMS
        cla, ins, p1, p2 = apdu[:4]
        body = apdu[4:]
        if cla != 0x00:
            return SW_NOT_SUPPORTED
        if ins == 0xA4:  # SELECT
            data = body[1 : 1 + body[0]] if body else b""
            if p1 == 0x04:
                if data == NDEF_AID and self._has_ndef():
                    state.update(selected_app=True, file=None)
                    return SW_OK
                if not self._has_ndef():
                    request.served = True  # the reader learnt all it could: not an NDEF card
                return SW_NOT_FOUND
            if p1 == 0x00 and state["selected_app"] and data in (CC_FILE, NDEF_FILE):
                state["file"] = data
                if data == NDEF_FILE and state["uri_bytes"] is None:
                    uri = self.url_source()  # a fresh message: the counter goes up
                    request.uri = uri
                    message = ndef_uri_message(uri)
                    state["uri_bytes"] = len(message).to_bytes(2, "big") + message
                return SW_OK
            return SW_NOT_FOUND
        if ins == 0xB0:  # READ BINARY
            if state["file"] is None:
                return SW_NOT_ALLOWED
            offset = (p1 << 8) | p2
            length = body[0] if body else 0
            length = length or 256
            content = CAPABILITY_CONTAINER if state["file"] == CC_FILE else state["uri_bytes"]
            if offset > len(content):
                return SW_WRONG_PARAMS
            chunk = content[offset : offset + min(length, MAX_LE)]
            if state["file"] == NDEF_FILE and offset + len(chunk) >= len(content) and offset > 0:
                request.served = True
            return chunk + SW_OK
        return SW_NOT_SUPPORTED

    def _has_ndef(self) -> bool:
        return getattr(self.url_source, "has_ndef", True)


def without_ndef() -> Callable[[], None]:
    """A url_source for a card with no NDEF application (a bank or transport card)."""

    def source() -> None:
        return None

    source.has_ndef = False
    return source
