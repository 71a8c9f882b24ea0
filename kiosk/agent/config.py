"""The agent's configuration file (TOML), e.g. /etc/sesame-agent/agent.toml:

    [server]
    url = "https://sesame.example.fr"
    token_file = "/etc/sesame-agent/token"   # or token = "rdr_…"
    timeout = 5.0
    retries = 3

    [reader]
    path = "usb"          # nfcpy path; "udp:127.0.0.1:54321" for tests and the demo
    mode = "gate"         # gate | desk | kiosk

    [agent]
    state_dir = "/var/lib/sesame-agent"
    heartbeat_seconds = 30
    snapshot_refresh_seconds = 600

    [printer]             # optional: a kiosk's ticket printer (CUPS)
    name = "receipts"     # the CUPS queue: lp -d receipts <file>
    timeout = 30
    poll_seconds = 3

Every key but the server URL and the token has a default (docs/kiosk-agent.md)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

MODES = ("gate", "desk", "kiosk")
TOKEN_ENV = "SESAME_AGENT_TOKEN"  # noqa: S105 - the variable's name, not a secret


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which key and why."""


@dataclass(frozen=True)
class AgentConfig:
    server_url: str
    token: str = field(repr=False)
    reader_path: str = "usb"
    mode: str = "gate"
    state_dir: Path = Path("/var/lib/sesame-agent")
    timeout: float = 5.0
    retries: int = 3
    retry_backoff: float = 0.5
    heartbeat_seconds: float = 30.0
    snapshot_refresh_seconds: float = 600.0
    reopen_max_seconds: float = 30.0
    printer: str = ""  # the CUPS queue of the ticket printer; "" when there is none
    printer_timeout: float = 30.0
    printer_poll_seconds: float = 3.0

    @property
    def decides_offline(self) -> bool:
        """Gates and desks decide from the snapshot when the server is unreachable; a kiosk
        in a public hall holds no card keys and says the service is unavailable."""
        return self.mode in {"gate", "desk"}


def _number(section: dict, key: str, default: float, *, name: str, minimum: float = 0) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name}.{key} must be a number, not {value!r}")
    if value < minimum:
        raise ConfigError(f"{name}.{key} must be at least {minimum}")
    return float(value)


def parse_config(data: dict, *, base_dir: Path | None = None) -> AgentConfig:
    """Build the configuration from parsed TOML (a dict); raises ConfigError."""
    unknown = set(data) - {"server", "reader", "agent", "printer"}
    if unknown:
        raise ConfigError(f"unknown section(s): {', '.join(sorted(unknown))}")
    server = data.get("server") or {}
    reader = data.get("reader") or {}
    agent = data.get("agent") or {}
    printer = data.get("printer") or {}
    if not isinstance(printer, dict):
        raise ConfigError('[printer] must be a section, e.g. [printer] name = "receipts"')
    # [printer] name = "…" (agent.printer, the older spelling, still works).
    printer_name = str(printer.get("name", agent.get("printer", ""))).strip()
    if printer_name and (printer_name.startswith("-") or any(c.isspace() for c in printer_name)):
        raise ConfigError(f"printer.name {printer_name!r} is not a CUPS queue name")

    url = str(server.get("url", "")).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError("server.url must be an http(s) address, e.g. https://sesame.example.fr")

    token = str(server.get("token", "")).strip()
    token_file = str(server.get("token_file", "")).strip()
    if not token and token_file:
        path = Path(token_file)
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        try:
            token = path.read_text().strip()
        except OSError as error:
            raise ConfigError(f"server.token_file cannot be read: {error.strerror}") from error
    token = token or os.environ.get(TOKEN_ENV, "").strip()
    if not token.startswith("rdr_"):
        raise ConfigError(
            f"a reader token (rdr_…) is needed: server.token, server.token_file or {TOKEN_ENV}"
        )

    mode = str(reader.get("mode", "gate"))
    if mode not in MODES:
        raise ConfigError(f"reader.mode must be one of {', '.join(MODES)}, not {mode!r}")
    path = str(reader.get("path", "usb")).strip()
    if not path.startswith(("usb", "udp", "tty", "com")):
        raise ConfigError(f"reader.path {path!r} is not an nfcpy path (usb, udp:host:port, tty:…)")

    retries = server.get("retries", 3)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
        raise ConfigError("server.retries must be a whole number from 0 to 10")

    return AgentConfig(
        server_url=url,
        token=token,
        reader_path=path,
        mode=mode,
        state_dir=Path(str(agent.get("state_dir", "/var/lib/sesame-agent"))),
        timeout=_number(server, "timeout", 5.0, name="server", minimum=0.1),
        retries=retries,
        retry_backoff=_number(server, "retry_backoff", 0.5, name="server"),
        heartbeat_seconds=_number(agent, "heartbeat_seconds", 30.0, name="agent", minimum=1),
        snapshot_refresh_seconds=_number(
            agent, "snapshot_refresh_seconds", 600.0, name="agent", minimum=10
        ),
        reopen_max_seconds=_number(agent, "reopen_max_seconds", 30.0, name="agent", minimum=0.1),
        printer=printer_name,
        printer_timeout=_number(printer, "timeout", 30.0, name="printer", minimum=1),
        printer_poll_seconds=_number(printer, "poll_seconds", 3.0, name="printer", minimum=0.2),
    )


def load_config(path: str | Path) -> AgentConfig:
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as error:
        raise ConfigError(f"no configuration file at {path}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from error
    return parse_config(data, base_dir=path.parent)
