"""Builders for the kiosk tests: kiosk readers, an emulated chip emitting real SUN messages
(keys derived from the test master key, like the server's), and the real agent running in a
thread against a live server."""

import contextlib
import threading
import time
from pathlib import Path

from card.models import Reader
from kiosk.agent.agent import Agent
from kiosk.agent.config import AgentConfig
from kiosk.agent.reader import Reader as NfcReader
from kiosk.emulator import EmulatedCard, free_udp_port
from services.catalog.models import AccessPoint
from tests.factories import AccessPointFactory, chip_url, reader_with_token


def kiosk_reader_with_token(*, facility=None) -> tuple[Reader, str]:
    """A kiosk at a desk access point (a desk checks and consumes nothing), and its token."""
    point = AccessPointFactory(
        kind=AccessPoint.Kind.DESK, name="Borne", **({"facility": facility} if facility else {})
    )
    return reader_with_token(access_point=point, kind=Reader.Kind.KIOSK)


class Chip:
    """What a Sésame card emits: a real SUN URL with the next counter at each read."""

    def __init__(self, uid: str, *, first_counter: int = 1):
        self.uid = uid
        self.counter = first_counter - 1
        self.urls: list[str] = []

    def __call__(self) -> str:
        self.counter += 1
        self.urls.append(chip_url(self.uid, self.counter, base="https://sesame.example.fr/c/"))
        return self.urls[-1]


def emulated_card(url_source, *, uid: str = "04A1B2C3D4E5F6", **options) -> EmulatedCard:
    return EmulatedCard(
        port=free_udp_port(), uid=bytes.fromhex(uid), url_source=url_source, **options
    )


def agent_config(
    tmp_path: Path, *, server_url: str, token: str, path: str, mode: str = "gate", **options
) -> AgentConfig:
    options.setdefault("timeout", 5.0)
    options.setdefault("retries", 1)
    options.setdefault("retry_backoff", 0.05)
    return AgentConfig(
        server_url=server_url,
        token=token,
        reader_path=path,
        mode=mode,
        state_dir=tmp_path / "agent-state",
        **options,
    )


def wait_for(predicate, *, timeout: float = 10.0, what: str = "the condition") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


@contextlib.contextmanager
def running_agent(config: AgentConfig, *, factory=None):
    """The real agent's reader loop in a thread; stopped (and its reader closed) at the end."""
    reader = NfcReader(config.reader_path, **({"factory": factory} if factory else {}))
    agent = Agent(config, reader=reader, sleep=lambda seconds: time.sleep(min(seconds, 0.05)))
    thread = threading.Thread(target=agent.run, name="agent", daemon=True)
    thread.start()
    try:
        yield agent
    finally:
        agent.stop()
        thread.join(10)


def closed_port_url() -> str:
    """An http address where nothing listens (the server is down)."""
    return f"http://127.0.0.1:{free_udp_port()}"


def paired_screen(client, reader) -> None:
    """Pair a test client with this kiosk reader, as staff and the kiosk's browser would."""
    from identity.models import StaffRole
    from kiosk import actions
    from kiosk.views import SCREEN_COOKIE
    from tests.factories import staff_user

    admin = staff_user(StaffRole.Role.ADMIN)
    _pairing, code = actions.create_screen_pairing(actor=admin, reader=reader)
    response = client.post(f"/borne/appairer/{code}/")
    assert response.status_code == 302, response.status_code
    assert SCREEN_COOKIE in client.cookies
