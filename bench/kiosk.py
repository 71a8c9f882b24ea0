"""`make bench-kiosk`: tap-to-screen latency of a kiosk, over nfcpy's UDP driver.

From the moment an emulated NTAG 424 DNA-like card enters the reader's field to the moment the
kiosk page's poll sees the tap: the real reader agent (its own process, kiosk mode) reads the
card over ISO-DEP/ISO 7816, POSTs it to gunicorn, the screen's endpoint is polled. Two
references are measured in the same run, on the same server, in the same conditions:

- baseline: the bare `POST /api/v1/taps` round trip (what the agent's HTTP call costs alone);
- http: that POST, then the screen's poll seeing it (the server side of tap-to-screen, without
  the NFC part).

The orchestrator (this process) plays the card and the screen; the agent and gunicorn are
other processes. The last line printed is one JSON object.

    python -m bench.kiosk [--taps 100] [--poll-interval 0.01]   (or: make bench-kiosk BENCH_ARGS=…)
"""

from __future__ import annotations

import argparse
import http.client
import importlib.metadata
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from . import tools
from .stack import Server, free_port

REPO = Path(__file__).resolve().parent.parent
SINCE = re.compile(r"since=([A-Za-z0-9_-]+)")


def log(line: str = "") -> None:
    print(line, flush=True)


def environment(var_dir: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "SESAME_CARD_MASTER_KEY": secrets.token_hex(16),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "SESAME_BENCH_ENDPOINTS": "1",  # bench.stack.Server waits on the ceiling endpoint
        "SESAME_VAR_DIR": var_dir,
        "SECURE_COOKIES": "0",
        "SESAME_VAULT_MASTER_KEY": secrets.token_hex(32),
        # Plain HTTP on the loopback address: no redirect to HTTPS.
        "SECURE_SSL_REDIRECT": "0",
    }


def prepare(env: dict[str, str]) -> dict:
    """An embedded SQLite database in a temporary folder: a facility, its desk, a kiosk
    reader, a resident with an active card and an entry book, a paired screen."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core import signing
    from django.core.management import call_command
    from django.utils import timezone

    from card.models import Card, Reader
    from identity import tokens
    from identity.models import (
        Commune,
        Facility,
        Household,
        Person,
        StaffRole,
        Territory,
        User,
    )
    from kiosk import actions
    from kiosk.views import SCREEN_COOKIE, SCREEN_COOKIE_SALT
    from services.catalog.models import AccessPoint, Entitlement

    call_command("migrate", verbosity=0, interactive=False)
    territory = Territory.objects.create(name="Bench")
    commune = Commune.objects.create(
        territory=territory, name="Bench", insee_code="46999", postcode="46000"
    )
    facility = Facility.objects.create(commune=commune, name="Piscine", kind=Facility.Kind.POOL)
    point = AccessPoint.objects.create(facility=facility, name="Borne", kind="desk")
    new = tokens.new_token("rdr")
    reader = Reader.objects.create(
        name="Borne",
        kind=Reader.Kind.KIOSK,
        access_point=point,
        token_prefix=new.prefix,
        token_hash=new.key_hash,
    )
    person = Person.objects.create(
        household=Household.objects.create(),
        first_name="Camille",
        last_name="Bench",
        birth_date=datetime(1985, 5, 17).date(),
    )
    today = timezone.localdate()
    Card.objects.create(
        number="9250000000000016",
        holder=person,
        kind="nfc",
        status="active",
        uid="04BE0000000001",
        expires_on=today.replace(year=today.year + 5),
    )
    Entitlement.objects.create(
        holder=person,
        kind="entries",
        facility_kind="pool",
        label="Carnet 10 entrées",
        valid_from=today,
        valid_until=today.replace(year=today.year + 1),
        entries_total=10,
        entries_left=10,
    )
    admin = User.objects.create_user(email="admin@bench.invalid", password=None)
    StaffRole.objects.create(user=admin, role=StaffRole.Role.ADMIN)
    pairing, code = actions.create_screen_pairing(actor=admin, reader=reader)
    actions.pair_screen(code=code)
    cookie = signing.dumps({"p": pairing.public_id, "r": reader.public_id}, salt=SCREEN_COOKIE_SALT)
    return {
        "token": new.raw,
        "reader": reader.public_id,
        "uid": "04BE0000000001",
        "cookie": f"{SCREEN_COOKIE}={cookie}",
    }


class Chip:
    """The card's SUN URLs, with the keys the server derives (same master key)."""

    def __init__(self, uid: str):
        from card import keys
        from ntag424 import sun

        self.uid = bytes.fromhex(uid)
        self.counter = 0
        self._sun, self._keys = sun, keys

    def __call__(self) -> str:
        self.counter += 1
        return self._sun.build_sun_url(
            "https://bench.invalid/c/",
            meta_read_key=self._keys.meta_read_key(),
            file_read_key=self._keys.card_file_read_key(self.uid),
            uid=self.uid,
            counter=self.counter,
        )


class Screen:
    """The kiosk page's poll (`/borne/<id>/etat/?since=`), as htmx sends it."""

    def __init__(self, port: int, reader: str, cookie: str):
        self.port, self.reader, self.cookie = port, reader, cookie
        self.key = "idle"
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def poll(self) -> bool:
        """True when the screen changed (a new tap shown)."""
        for _attempt in range(2):
            try:
                self.connection.request(
                    "GET",
                    f"/borne/{self.reader}/etat/?since={self.key}",
                    headers={"Cookie": self.cookie, "HX-Request": "true"},
                )
                response = self.connection.getresponse()
                body = response.read().decode()
                break
            except (http.client.HTTPException, OSError):
                self.connection.close()  # gunicorn's sync workers close after each answer
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        else:
            raise RuntimeError("the screen's endpoint does not answer")
        if response.status == 204:
            return False
        if response.status != 200:
            raise RuntimeError(f"the screen's endpoint answered {response.status}")
        match = SINCE.search(body)
        changed = match is not None and match.group(1) != self.key
        if match:
            self.key = match.group(1)
        return changed and self.key.startswith("tap-")

    def wait_change(self, *, interval: float, timeout: float = 10.0) -> float:
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            if self.poll():
                return time.perf_counter()
            time.sleep(interval)
        raise RuntimeError("the tap never reached the screen")


def post_tap(port: int, token: str, credential: str) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps(
        {
            "tap_id": uuid.uuid4().hex,
            "credential": credential,
            "reader_time": datetime.now(UTC).isoformat(),
        }
    )
    connection.request(
        "POST",
        "/api/v1/taps",
        body=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    answer = json.loads(connection.getresponse().read())
    connection.close()
    return answer


def summary(values: list[float]) -> dict:
    ms = [value * 1000 for value in values]
    return {
        "n": len(ms),
        "p50_ms": round(tools.percentile(ms, 50), 1),
        "p95_ms": round(tools.percentile(ms, 95), 1),
        "p99_ms": round(tools.percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1),
    }


def run(args) -> dict:
    var_dir = tempfile.mkdtemp(prefix="sesame-bench-kiosk-")
    env = environment(var_dir)
    server = agent = None
    try:
        log(f"Preparing an embedded database in {var_dir} …")
        data = prepare(env)
        port = free_port()
        server = Server(env, args.workers, port, Path(var_dir) / "gunicorn.log")
        server.wait_for_ceiling(data["token"])
        chip = Chip(data["uid"])
        screen = Screen(port, data["reader"], data["cookie"])
        screen.poll()

        # The agent in its own process reads an emulated card; the orchestrator plays the card
        # and the screen.
        import logging

        from kiosk.emulator import EmulatedCard, free_udp_port

        logging.getLogger("nfc").setLevel(logging.WARNING)
        udp = free_udp_port()
        config = Path(var_dir) / "agent.toml"
        config.write_text(
            f'[server]\nurl = "http://127.0.0.1:{port}"\ntoken = "{data["token"]}"\n'
            f'[reader]\npath = "udp:127.0.0.1:{udp}"\nmode = "kiosk"\n'
            f'[agent]\nstate_dir = "{Path(var_dir) / "agent-state"}"\n'
        )
        card = EmulatedCard(
            port=udp, uid=bytes.fromhex(data["uid"]), url_source=chip, hold_seconds=0.02
        ).start()
        agent_log = open(Path(var_dir) / "agent.log", "wb")  # noqa: SIM115 - closed below
        agent = subprocess.Popen(  # noqa: S603 - our own agent, fixed argv
            [sys.executable, "-m", "kiosk.agent", "--config", str(config)]
            + ["--log-level", "WARNING"],
            cwd=REPO,
            env={**os.environ, **env},
            stdout=agent_log,
            stderr=subprocess.STDOUT,
        )
        time.sleep(1.0)  # the agent imports nfcpy and opens the reader

        def card_tap() -> tuple[float, float]:
            result = card.present()
            seen = screen.wait_change(interval=args.poll_interval)
            result.done.wait(5)
            time.sleep(args.pause)  # the agent sees the card gone and polls again
            return seen - result.entered_at, result.left_at - result.entered_at - card.hold_seconds

        def http_tap() -> tuple[float, float]:
            started = time.perf_counter()
            answer = post_tap(port, data["token"], chip())
            answered = time.perf_counter()
            if answer.get("reason") != "valid":
                raise RuntimeError(f"unexpected answer: {answer}")
            return answered - started, screen.wait_change(interval=args.poll_interval) - started

        for _ in range(3):  # warm-up of both paths
            http_tap()
            card_tap()
        # Interleaved, so that whatever else runs on the machine weighs on all lines alike.
        baseline, http_path, tap_to_screen, read = [], [], [], []
        for _ in range(args.taps):
            round_trip, seen = http_tap()
            baseline.append(round_trip)
            http_path.append(seen)
            seen, card_read = card_tap()
            tap_to_screen.append(seen)
            read.append(card_read)
        card.stop()
        agent.terminate()
        agent.wait(10)
        agent_log.close()
        agent = None
        return {
            "baseline": summary(baseline),
            "http": summary(http_path),
            "tap_to_screen": summary(tap_to_screen),
            "card_read": summary(read),
        }
    finally:
        if agent is not None:
            agent.kill()
        if server is not None:
            server.stop()
        if not args.keep:
            shutil.rmtree(var_dir, ignore_errors=True)


def machine(args) -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return {
        "cpu": tools.cpu_model(cpuinfo),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "django": importlib.metadata.version("django"),
        "gunicorn": importlib.metadata.version("gunicorn"),
        "nfcpy": importlib.metadata.version("nfcpy"),
        "gunicorn_workers": args.workers,
        "database": "SQLite (embedded default)",
        "load_before": round(os.getloadavg()[0], 2),
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--taps", type=int, default=100, help="taps per measurement (100)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=0.01,
        help="seconds between the screen's polls while waiting (0.01; the page polls every 1 s)",
    )
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between taps (0.05)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    facts = machine(args)
    log("Machine: " + ", ".join(f"{key} {value}" for key, value in facts.items()))
    results = run(args)
    log("")
    log(f"{'':38} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}   (ms, {args.taps} taps each)")
    names = {
        "baseline": "baseline: POST /api/v1/taps round trip",
        "http": "http: POST, then the screen sees it",
        "tap_to_screen": "tap-to-screen over UDP (agent, NFC)",
        "card_read": "card read by the agent (ISO-DEP)",
    }
    for key, name in names.items():
        row = results[key]
        log(
            f"{name:38} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} {row['p99_ms']:>8.1f} "
            f"{row['max_ms']:>8.1f}"
        )
    ratio = results["tap_to_screen"]["p50_ms"] / results["baseline"]["p50_ms"]
    log(
        f"\ntap-to-screen p50 is {ratio:.1f}× the bare tap round trip; the kiosk page itself "
        "polls every second, which adds 0–1 s (0.5 s on average) on a real screen."
    )
    disturbed = facts["load_before"] > 0.5 * (os.cpu_count() or 1)
    if disturbed:
        log(
            f"Note: the machine was busy before the run (load {facts['load_before']}): latencies "
            "are higher and noisier than on an idle machine."
        )
    result = {"machine": facts, **results, "ratio_p50": round(ratio, 2), "disturbed": disturbed}
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
