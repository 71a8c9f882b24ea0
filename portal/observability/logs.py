"""Log lines for machines: one JSON object a line, each with the id of the request it belongs to.

Sésame's own log calls name residents by id only. As a safety net against a library's message
that quotes a value (a database error repeating the row it refused), anything shaped like an
email address is masked before the line is written."""

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime

# The request being served in this thread (or task): "-" outside any request.
request_id: ContextVar[str] = ContextVar("request_id", default="-")

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# The attributes every LogRecord has: anything else was passed with `extra=` and is written too.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request_id",
}


def scrub(text: str) -> str:
    return EMAIL.sub("[email]", text)


class RequestIdFilter(logging.Filter):
    """Gives every record the current request's id (`%(request_id)s`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", "request_id", …extra, "exception"}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = scrub(value) if isinstance(value, str) else value
        if record.exc_info:
            line["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)
