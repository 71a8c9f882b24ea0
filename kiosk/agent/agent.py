"""The agent's loops: the reader loop (wait for a card, read it, send it, wait until it
leaves) and the housekeeping loop (heartbeat, snapshot refresh, queue upload)."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime

from . import __version__
from .client import Client, ServerRefused, ServerUnavailable, new_tap_id, reader_time
from .config import AgentConfig
from .logs import log
from .offline import OfflineGate, SnapshotRefused, TapQueue
from .printer import Printer
from .reader import CardLost, Reader, ReaderUnavailable

SERVICE_UNAVAILABLE = "service_unavailable"
NOT_A_SESAME_CARD = "not_a_sesame_card"


def _now() -> datetime:
    return datetime.now().astimezone()


class Agent:
    def __init__(
        self,
        config: AgentConfig,
        *,
        reader: Reader | None = None,
        client: Client | None = None,
        clock: Callable[[], datetime] = _now,
        sleep: Callable[[float], None] | None = None,
    ):
        self.config = config
        self.reader = reader or Reader(config.reader_path)
        self.client = client or Client(
            config.server_url,
            config.token,
            timeout=config.timeout,
            retries=config.retries,
            backoff=config.retry_backoff,
        )
        self.clock = clock
        self.stop_event = threading.Event()
        self._sleep = sleep or self.stop_event.wait
        self.gate = OfflineGate(config.state_dir)
        self.queue = TapQueue(config.state_dir / "queue.jsonl")
        self.last_error = ""
        self.taps = 0
        # The latest answers (--once, tests, diagnostics); bounded: an agent runs for months.
        self.answers: deque[dict] = deque(maxlen=1000)
        self._reopen_pause = 0.0
        self.printer = (
            Printer(config.printer, timeout=config.printer_timeout) if config.printer else None
        )

    # --- the reader loop -------------------------------------------------------------------
    def stop(self) -> None:
        self.stop_event.set()

    def _error(self, message: str, **fields) -> None:
        self.last_error = message
        log("error", level=logging.ERROR, message=message, **fields)

    def ensure_reader(self) -> bool:
        """Open the reader if needed; on failure log why, wait (1 s, 2 s, 4 s… up to the
        configured maximum) and say False."""
        if self.reader.connected:
            return True
        try:
            self.reader.open()
        except ReaderUnavailable as error:
            self._error(str(error), reader=self.config.reader_path)
            self._reopen_pause = min(
                max(self._reopen_pause * 2, 1.0), self.config.reopen_max_seconds
            )
            self._sleep(self._reopen_pause)
            return False
        if self._reopen_pause:
            log("reader_back", reader=self.config.reader_path)
        else:
            log("reader_open", reader=self.config.reader_path)
        self._reopen_pause = 0.0
        self.last_error = ""
        return True

    def run(self, *, once: bool = False, timeout: float | None = None) -> dict | None:
        """Serve cards until stopped; with `once`, return the answer for the first card (or
        None when `timeout` seconds passed without one)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        log("agent_start", version=__version__, mode=self.config.mode, once=once)
        try:
            while not self.stop_event.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    return None
                if not self.ensure_reader():
                    continue
                try:
                    answer = self.serve_one(until=time.monotonic() + 1.0, wait_removal=not once)
                except Exception as error:  # a card or a driver we did not foresee: go on
                    # Its kind only: the message of an unforeseen error may quote the card's
                    # URL (it authenticates a tap) or an answer's content.
                    self._error(f"unexpected {type(error).__name__}")
                    logging.getLogger("sesame.agent").debug("unexpected", exc_info=True)
                    self.reader.close()
                    continue
                if answer is not None and once:
                    return answer
        finally:
            self.reader.close()
        return None

    def serve_one(self, *, until: float, wait_removal: bool = True) -> dict | None:
        """Wait for one card until `until`; read it, send it, answer (None: no card)."""
        try:
            tag = self.reader.wait_for_card(until=until, stop=self.stop_event.is_set)
        except ReaderUnavailable as error:
            self._error(str(error), reader=self.config.reader_path)
            return None
        if tag is None:
            return None
        try:
            card = self.reader.read(tag)
        except CardLost as error:
            log("card_pulled_mid_read", level=logging.WARNING, detail=str(error))
            return None
        if not card.is_sun:
            log("foreign_card", tag_type=card.tag_type, has_uri=card.uri is not None)
            self._event("foreign_card")
            answer = {"granted": False, "reason": NOT_A_SESAME_CARD}
        else:
            answer = self.present(card.uri)
        self.answers.append(answer)
        if wait_removal:
            removed = self.reader.wait_removed(tag, timeout=30.0, stop=self.stop_event.is_set)
            if removed:
                log("card_removed")
                self._event("card_removed")
        return answer

    def _event(self, kind: str) -> None:
        if self.config.mode != "kiosk":
            return
        try:
            self.client.event(kind, at=reader_time(self.clock()))
        except (ServerUnavailable, ServerRefused) as error:
            log("event_not_sent", level=logging.WARNING, kind=kind, error=str(error))

    # --- one credential --------------------------------------------------------------------
    def present(self, credential: str) -> dict:
        """Send a credential to the server (retried with the same tap id); when the server
        cannot be reached, decide offline (gate, desk) or answer service_unavailable (kiosk)."""
        tap_id = new_tap_id()
        at = reader_time(self.clock())
        self.taps += 1
        started = time.monotonic()
        try:
            answer = self.client.tap(credential=credential, tap_id=tap_id, at=at)
        except ServerRefused as error:
            self._error(f"tap refused by the server: {error}", tap_id=tap_id)
            return {  # the server's words, but a refusal stays a refusal whatever they say
                **error.body,
                "tap_id": tap_id,
                "granted": False,
                "reason": error.body.get("code"),
            }
        except ServerUnavailable as error:
            self._error(f"server unreachable: {error}", tap_id=tap_id)
            return self._offline(credential, tap_id=tap_id, at=at)
        log(
            "tap",
            tap_id=tap_id,
            granted=answer.get("granted"),
            reason=answer.get("reason"),
            ms=round((time.monotonic() - started) * 1000),
        )
        return answer

    def _offline(self, credential: str, *, tap_id: str, at: str) -> dict:
        if not self.config.decides_offline:
            return {"tap_id": tap_id, "granted": False, "reason": SERVICE_UNAVAILABLE}
        decision = self.gate.decide(credential, now=self.clock())
        # On disk before the gate opens (docs/offline-readers.md §5).
        self.queue.append(
            {
                "tap_id": tap_id,
                "credential": credential,
                "reader_time": at,
                "offline_granted": decision.granted,
            }
        )
        log(
            "tap_offline",
            tap_id=tap_id,
            granted=decision.granted,
            reason=decision.reason,
            queued=len(self.queue),
        )
        return {
            "tap_id": tap_id,
            "granted": decision.granted,
            "reason": decision.reason,
            "offline": True,
            "holder": {"first_name": decision.first_name} if decision.first_name else None,
            "entitlement": decision.entitlement,
        }

    # --- housekeeping ----------------------------------------------------------------------
    def status(self) -> dict:
        return {
            "agent_version": __version__,
            "mode": self.config.mode,
            "reader_connected": self.reader.connected,
            "printer_status": self.printer.status if self.printer else "",
            # A driver's message may carry NUL characters, which the server refuses in JSON: the
            # heartbeat would then fail for as long as the error lasts.
            "last_error": (
                self.last_error or (self.printer.last_error if self.printer else "")
            ).replace("\x00", "")[:300],
            "queue_length": len(self.queue),
            "snapshot_version": self.gate.version or "",
        }

    def heartbeat(self) -> dict | None:
        try:
            answer = self.client.heartbeat(self.status())
        except (ServerUnavailable, ServerRefused) as error:
            log("heartbeat_failed", level=logging.WARNING, error=str(error))
            return None
        self.gate.expected_reader = answer.get("reader")
        return answer

    def refresh_snapshot(self) -> bool:
        if not self.config.decides_offline:
            return False
        try:
            if self.gate.pinned_key is None:
                # Trust on first use; docs/kiosk-agent.md pins at installation instead.
                self.gate.pin(self.client.snapshot_key())
                log("snapshot_key_pinned", key_id=self.gate.pinned_key["key_id"])
            payload = self.gate.accept_snapshot(self.client.snapshot(), now=self.clock())
        except SnapshotRefused as error:
            self._error(f"snapshot refused: {error.reason}")
            return False
        except (ServerUnavailable, ServerRefused) as error:
            log("snapshot_not_fetched", level=logging.WARNING, error=str(error))
            return False
        log("snapshot", version=payload["version"], cards=len(payload["cards"]))
        return True

    def upload_queue(self) -> list[dict]:
        if not len(self.queue):
            return []
        try:
            results = self.queue.upload(self.client)
        except (ServerUnavailable, ServerRefused) as error:
            log("upload_failed", level=logging.WARNING, error=str(error), queued=len(self.queue))
            return []
        not_honoured = sum(1 for result in results if not result.get("honoured", True))
        log("queue_uploaded", taps=len(results), not_honoured=not_honoured)
        return results

    def print_jobs(self) -> int:
        """Print the receipts the server queued for this kiosk (when it has a printer)."""
        if self.printer is None:
            return 0
        try:
            return self.printer.serve(self.client)
        except (ServerUnavailable, ServerRefused) as error:
            log("print_jobs_not_fetched", level=logging.WARNING, error=str(error))
            return 0

    def _safely(self, step: Callable[[], object], default: object = None) -> object:
        """One housekeeping step; an answer it could not foresee (a garbled server, a wrong
        type) is logged — by its kind only — and the loop goes on: the thread never dies."""
        try:
            return step()
        except Exception as error:
            log(
                "housekeeping_failed",
                level=logging.ERROR,
                step=getattr(step, "__name__", "step"),
                error=type(error).__name__,
            )
            return default

    def housekeeping(self) -> None:
        """Heartbeat, queue upload, snapshot refresh and print jobs, each on its own period."""
        next_beat = next_snapshot = next_print = 0.0
        while not self.stop_event.is_set():
            now = time.monotonic()
            if self.printer is not None and now >= next_print:
                status = self.printer.status
                self._safely(self.print_jobs)
                if self.printer.status != status:
                    next_beat = now  # a printer that changed state is reported at once
                next_print = now + self.config.printer_poll_seconds
            if now >= next_beat:
                if self._safely(self.heartbeat) is not None:
                    self._safely(self.upload_queue)
                next_beat = now + self.config.heartbeat_seconds
            if now >= next_snapshot:
                ok = self._safely(self.refresh_snapshot, False)
                next_snapshot = now + (self.config.snapshot_refresh_seconds if ok else 30.0)
            self.stop_event.wait(1.0)
