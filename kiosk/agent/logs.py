"""JSON-lines logs on stderr (journald collects them). Events carry ids and codes only: never
a name, a card URL or a token."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

logger = logging.getLogger("sesame.agent")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info and record.levelno >= logging.ERROR:
            entry["exception"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    root = logging.getLogger("sesame")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    # nfcpy's own warnings and errors (a reader gone, a protocol error) in the same stream.
    nfc = logging.getLogger("nfc")
    nfc.handlers[:] = [handler]
    nfc.setLevel(logging.WARNING)
    nfc.propagate = False


def log(event: str, *, level: int = logging.INFO, **fields) -> None:
    logger.log(level, event, extra={"fields": fields})
