"""Deciding alone while the network is down (docs/offline-readers.md): the signed snapshot,
the local counters, and the durable queue of taps to upload.

Files under the state directory:

- ``snapshot-key.json``: the pinned Ed25519 public key (pinned once, at installation or on
  the first contact; a snapshot signed by another key is refused, never re-pinned silently);
- ``snapshot.json``: the last verified snapshot (it holds card keys: the directory is 0700);
- ``counters.json``: the last counter this reader accepted per card UID, across snapshots;
- ``queue.jsonl``: taps decided offline, one JSON object a line, fsynced before the gate
  opens; a line is dropped only once the server's result for it came back."""

from __future__ import annotations

import base64
import json
import os
import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ntag424 import sun

MAX_BATCH = 500
# Entitlement kinds that open without being used up: a season pass, a booking on its day.
NOT_CONSUMED = frozenset({"pass", "booking"})


class SnapshotRefused(ValueError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def canonical_json(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    with temporary.open("w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


@dataclass(frozen=True)
class OfflineDecision:
    granted: bool
    reason: str
    first_name: str | None = None
    entitlement: dict | None = None


class OfflineGate:
    def __init__(self, state_dir: Path):
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.state_dir, 0o700)
        self._lock = threading.Lock()
        self.payload: dict | None = _read_json(self._path("snapshot.json"))
        self.counters: dict[str, int] = _read_json(self._path("counters.json")) or {}
        self.expected_reader: str | None = None

    def _path(self, name: str) -> Path:
        return self.state_dir / name

    # --- the pinned key --------------------------------------------------------------------
    @property
    def pinned_key(self) -> dict | None:
        return _read_json(self._path("snapshot-key.json"))

    def pin(self, key_info: dict) -> None:
        if key_info.get("algorithm") != "Ed25519":
            raise SnapshotRefused("unsupported_algorithm")
        try:
            base64.b64decode(key_info["public_key"], validate=True)
            if not isinstance(key_info["key_id"], str):
                raise TypeError("key_id")
        except (KeyError, TypeError, ValueError) as error:
            # Never pin a key the snapshots could not be checked against.
            raise SnapshotRefused("malformed") from error
        _write_atomic(self._path("snapshot-key.json"), json.dumps(key_info))

    # --- the snapshot ----------------------------------------------------------------------
    def accept_snapshot(self, snapshot: dict, *, now: datetime) -> dict:
        """Check and keep a snapshot (docs/offline-readers.md §3); raises SnapshotRefused."""
        key = self.pinned_key
        if key is None:
            raise SnapshotRefused("no_pinned_key")
        try:
            payload = snapshot["payload"]
            signature = base64.b64decode(snapshot["signature"], validate=True)
            if snapshot["key_id"] != key["key_id"]:
                raise SnapshotRefused("other_key")
            public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key["public_key"]))
            public.verify(signature, canonical_json(payload))
            valid_until = datetime.fromisoformat(payload["valid_until"])
            version = payload["version"]
        except InvalidSignature as error:
            raise SnapshotRefused("bad_signature") from error
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, SnapshotRefused):
                raise
            raise SnapshotRefused("malformed") from error
        if now >= valid_until:
            raise SnapshotRefused("expired")
        if self.expected_reader and payload["reader"]["id"] != self.expected_reader:
            raise SnapshotRefused("other_reader")
        if self.payload is not None and version <= self.payload["version"]:
            if version == self.payload["version"]:
                return self.payload
            raise SnapshotRefused("older_version")
        with self._lock:
            _write_atomic(self._path("snapshot.json"), json.dumps(payload))
            self.payload = payload
        return payload

    @property
    def version(self) -> str | None:
        return self.payload["version"] if self.payload else None

    # --- deciding --------------------------------------------------------------------------
    def decide(self, credential: str, *, now: datetime) -> OfflineDecision:
        """docs/offline-readers.md §4, for NFC cards (the agent reads no phone pass)."""
        payload = self.payload
        if payload is None or now >= datetime.fromisoformat(payload["valid_until"]):
            return OfflineDecision(False, "snapshot_expired")
        try:
            message = sun.parse_sun_url(credential)
            picc = sun.decrypt_picc_data(
                bytes.fromhex(payload["sdm_meta_read_key"]), picc_data=message.picc_data
            )
        except sun.InvalidSunMessage:
            return OfflineDecision(False, "invalid_credential")
        uid = picc.uid.hex().upper()
        card = next((c for c in payload["cards"] if (c.get("uid") or "").upper() == uid), None)
        if card is None:
            refused = next(
                (c for c in payload["revoked"] if (c.get("uid") or "").upper() == uid), None
            )
            reason = f"card_{refused['status']}" if refused else "unknown_card"
            return OfflineDecision(False, reason)
        try:
            sun.verify_sun(
                message,
                meta_read_key=bytes.fromhex(payload["sdm_meta_read_key"]),
                file_read_key_for_uid=lambda _uid: bytes.fromhex(card["sdm_file_read_key"]),
            )
        except sun.InvalidSunMessage:
            return OfflineDecision(False, "invalid_credential")
        first_name = card.get("first_name")
        with self._lock:
            last = max(card.get("last_counter", -1), self.counters.get(uid, -1))
            if picc.counter <= last:
                return OfflineDecision(False, "replay", first_name)
            self.counters[uid] = picc.counter
            _write_atomic(self._path("counters.json"), json.dumps(self.counters))
        today = now.date()
        if card.get("expires_on") and date.fromisoformat(card["expires_on"]) < today:
            return OfflineDecision(False, "card_expired", first_name)
        kind = payload["access_point"]["kind"]
        if kind == "exit":
            return OfflineDecision(True, "exit", first_name)
        usable = [
            e
            for e in card.get("entitlements", [])
            if date.fromisoformat(e["valid_from"]) <= today <= date.fromisoformat(e["valid_until"])
        ]
        # The server's order: a pass, then a booking for today (a lesson: paid, not consumed),
        # then the entry book that expires first (one entry consumed).
        chosen = next((e for e in usable if e["kind"] == "pass"), None)
        if chosen is None:
            chosen = next((e for e in usable if e["kind"] == "booking"), None)
        if chosen is None:
            chosen = next(
                (
                    e
                    for e in usable
                    if e["kind"] not in NOT_CONSUMED and (e.get("entries_left") or 0) > 0
                ),
                None,
            )
        if chosen is None:
            return OfflineDecision(False, "no_entitlement", first_name)
        if kind == "desk":
            return OfflineDecision(True, "valid", first_name, chosen)
        if chosen["kind"] not in NOT_CONSUMED:
            with self._lock:
                chosen["entries_left"] -= 1  # the next tap of this card sees one entry less
        return OfflineDecision(True, "granted", first_name, chosen)


class TapQueue:
    """Taps decided offline, durable (one fsynced JSON line each) until the server answers."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def append(self, tap: dict) -> None:
        line = json.dumps(tap, separators=(",", ":")) + "\n"
        with self._lock, self.path.open("a") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def pending(self) -> list[dict]:
        with self._lock:
            return self._read()

    def _read(self) -> list[dict]:
        try:
            lines = self.path.read_text().splitlines()
        except FileNotFoundError:
            return []
        taps = []
        for line in lines:
            try:
                taps.append(json.loads(line))
            except ValueError:
                continue  # a line cut by a power loss: its tap was never acted upon
        return taps

    def __len__(self) -> int:
        return len(self.pending())

    def remove(self, tap_ids: set[str]) -> None:
        with self._lock:
            kept = [tap for tap in self._read() if tap["tap_id"] not in tap_ids]
            lines = "".join(json.dumps(t, separators=(",", ":")) + "\n" for t in kept)
            _write_atomic(self.path, lines)

    def upload(self, client) -> list[dict]:
        """Send the queue in batches of at most 500; drop what the server answered. Raises
        the client's errors (ServerUnavailable) with the rest still queued."""
        results: list[dict] = []
        while True:
            batch = self.pending()[:MAX_BATCH]
            if not batch:
                return results
            answered = client.upload_batch(batch)
            results.extend(answered)
            self.remove({result.get("tap_id") for result in answered})
