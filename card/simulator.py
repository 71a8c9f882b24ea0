"""A simulated NFC card for demos and tests without hardware.

Like a real NTAG 424 DNA, it keeps its tap counter between uses — in one file under the var
directory, shared by `make tap` and the kiosk demo — and emits a fresh SUN URL at each tap."""

import json
import os
from pathlib import Path

from django.conf import settings

from ntag424 import sun

from . import keys

STATE_FILE = "simulated-cards.json"


def _state_path() -> Path:
    return Path(settings.VAR_DIR) / STATE_FILE


def _load() -> dict:
    try:
        return json.loads(_state_path().read_text())
    except FileNotFoundError:
        return {}


def _save(state: dict) -> None:
    path = _state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=2))
    os.replace(temporary, path)  # a crash never leaves half a file, nor a lower counter


def next_tap(uid: str) -> str:
    """The URL the card emits on its next tap (its counter goes up by one, for good)."""
    state = _load()
    card = state.setdefault(uid, {"counter": 0, "last_url": None})
    card["counter"] += 1
    raw_uid = bytes.fromhex(uid)
    card["last_url"] = sun.build_sun_url(
        settings.SESAME_CARD_URL,
        meta_read_key=keys.meta_read_key(),
        file_read_key=keys.card_file_read_key(raw_uid),
        uid=raw_uid,
        counter=card["counter"],
    )
    _save(state)
    return card["last_url"]


def last_tap(uid: str) -> str | None:
    """What the card emitted last: what a cloner would have captured."""
    return _load().get(uid, {}).get("last_url")
