"""What every benchmark stands on: its own PostgreSQL database, production settings with
throw-away keys, gunicorn as a child process, the CPU used per group of processes, and the facts
of the machine a result is reported with. `bench.taps`, `bench.canteen` and `bench.kiosk` run
on it."""

from __future__ import annotations

import contextlib
import http.client
import importlib.metadata
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import tools

REPO = Path(__file__).resolve().parent.parent
CEILING_PATH = "/api/v1/bench/ceiling"
# Not statements of the use case: the transaction's framing, which the minimal reference pays
# too (the same convention as tests/card/test_tap_budget.py). Round trips count them.
FRAMING = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(line: str = "") -> None:
    print(line, flush=True)


# --- environment and database ------------------------------------------------------------------


def bench_environment(redis: str, db_url: str, var_dir: str) -> dict[str, str]:
    """What the orchestrator, the generator's workers and gunicorn all run with: production
    settings (DEBUG off, persistent connections, WARNING logs) with throw-away keys."""
    env = {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": db_url,
        "DATABASE_CONN_MAX_AGE": "60",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "SESAME_CARD_MASTER_KEY": os.environ.get("BENCH_CARD_MASTER_KEY") or secrets.token_hex(16),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "SESAME_BENCH_ENDPOINTS": "1",
        "SESAME_VAR_DIR": var_dir,
        "SESAME_VAULT_MASTER_KEY": secrets.token_hex(32),
        # Plain HTTP on the loopback address: no redirect to HTTPS.
        "SECURE_SSL_REDIRECT": "0",
    }
    if redis:
        env["REDIS_URL"] = redis
    return env


def ensure_database(db_url: str) -> None:
    """CREATE DATABASE when it is missing (through the server's `postgres` database)."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(db_url)
    name = params.get("dbname")
    admin = make_conninfo(**{**params, "dbname": "postgres"})
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


class StackRefused(Exception):
    """The benchmark cannot run here (not a bench database, PostgreSQL unreachable): the
    message is printed and the process exits with `code`."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


@contextlib.contextmanager
def django_on_bench_database(*, title: str, prefix: str, redis: str = "") -> Iterator[str]:
    """Django set up on the benchmark's own database (created if missing, migrated), with the
    bench environment in os.environ for the children too; yields the throw-away var dir,
    removed at the end. `title` is printed with the database's name."""
    db_url = tools.bench_database_url(os.environ)
    if not tools.is_bench_database(db_url):
        raise StackRefused(
            f"refusing {db_url}: the benchmark needs its own PostgreSQL database named *bench*", 2
        )
    var_dir = tempfile.mkdtemp(prefix=prefix)
    (Path(var_dir) / "static").mkdir()
    os.environ.pop("REDIS_URL", None)
    os.environ.update(bench_environment(redis, db_url, var_dir))
    try:
        log(f"{title}: gunicorn on PostgreSQL ({db_url.rsplit('/', 1)[-1]})")
        try:
            ensure_database(db_url)
        except Exception as error:  # noqa: BLE001 - any failure to reach the server ends here
            raise StackRefused(f"cannot reach PostgreSQL for {db_url}: {error}", 1) from error
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        yield var_dir
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


# --- gunicorn ----------------------------------------------------------------------------------


def now_iso() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn (sync workers) as a child process, stopped by its pid at the end."""

    def __init__(self, env: dict[str, str], workers: int, port: int, log_path: Path):
        self.port = port
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [
                sys.executable,
                "-m",
                "gunicorn",
                "portal.wsgi",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ],
            cwd=REPO,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(
        self,
        path: str,
        *,
        body: str = "{}",
        headers: dict[str, str] | None = None,
        expect: int | None = None,
        timeout: float = 60,
    ) -> None:
        """Until gunicorn answers a POST to `path`: any answer, or `expect` (another status
        then stops the run with the server's log)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request(
                    "POST", path, body=body, headers={"Host": "127.0.0.1", **(headers or {})}
                )
                response = conn.getresponse()
                response.read()
                conn.close()
            except OSError:
                time.sleep(0.2)
                continue
            if expect is None or response.status == expect:
                return
            raise RuntimeError(f"{path} answered {response.status}:\n{self.tail()}")
        raise RuntimeError(f"gunicorn not ready after {timeout:.0f} s:\n{self.tail()}")

    def wait_for_ceiling(self, token: str) -> None:
        """Ready when the bench's ceiling endpoint grants a reader's tap (its token works)."""
        self.wait_ready(
            CEILING_PATH,
            body=json.dumps({"tap_id": "ready", "credential": "x", "reader_time": now_iso()}),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            expect=200,
        )

    def tail(self, lines: int = 30) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()


# --- CPU accounting ----------------------------------------------------------------------------


def _read(path: str) -> str | None:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None


def _processes() -> dict[int, tools.ProcessTicks]:
    found = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            text = _read(f"/proc/{entry.name}/stat")
            if text:
                found[int(entry.name)] = tools.process_ticks(int(entry.name), text)
    return found


@dataclass
class CpuSnapshot:
    machine: tuple[int, int]
    groups: dict[str, dict[int, int]]


def cpu_snapshot(
    server_pid: int, generator_pids: list[int], database: str, with_redis: bool = False
) -> CpuSnapshot:
    processes = _processes()
    groups = {
        "app": {
            pid: p.ticks
            for pid, p in processes.items()
            if pid == server_pid or p.ppid == server_pid
        },
        "postgres": {
            pid: p.ticks
            for pid, p in processes.items()
            if p.comm == "postgres"
            and tools.counts_as_bench_postgres(_read(f"/proc/{pid}/cmdline") or "", database)
        },
        "generator": {pid: processes[pid].ticks for pid in generator_pids if pid in processes},
    }
    if with_redis:
        groups["redis"] = {pid: p.ticks for pid, p in processes.items() if p.comm == "redis-server"}
    return CpuSnapshot(tools.machine_ticks(_read("/proc/stat") or ""), groups)


class CpuWatch:
    """CPU seconds per group over a phase. /proc is sampled every half second so that a
    process ending during the phase (a database connection renewed after CONN_MAX_AGE) loses
    at most half a second of its time; one born during it counts from zero."""

    INTERVAL = 0.5

    def __init__(self, take_snapshot):
        self._take = take_snapshot
        self._stop = threading.Event()

    def _merge(self, snapshot: CpuSnapshot) -> None:
        for name, ticks in snapshot.groups.items():
            first, last = self.first.setdefault(name, {}), self.last.setdefault(name, {})
            for pid, value in ticks.items():
                first.setdefault(pid, 0)
                last[pid] = value
        self.machine_end = snapshot.machine

    def _loop(self) -> None:
        while not self._stop.wait(self.INTERVAL):
            self._merge(self._take())

    def __enter__(self):
        start = self._take()
        self.machine_start = self.machine_end = start.machine
        self.first = {name: dict(ticks) for name, ticks in start.groups.items()}
        self.last = {name: dict(ticks) for name, ticks in start.groups.items()}
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._merge(self._take())

    def usage(self) -> dict:
        """Seconds of CPU per group, "other" for the rest, and how busy the machine was."""
        busy = self.machine_end[0] - self.machine_start[0]
        total = self.machine_end[1] - self.machine_start[1]
        usage = {"busy_pct": 100 * busy / total if total else 0.0}
        accounted = 0
        for name, last in self.last.items():
            ticks = sum(value - self.first[name][pid] for pid, value in last.items())
            accounted += ticks
            usage[name] = ticks / CLK_TCK
        usage["other"] = max(0, busy - accounted) / CLK_TCK
        return usage


# --- the machine -------------------------------------------------------------------------------


def checkpoints() -> tuple[int, int] | None:
    """PostgreSQL's (timed, requested) checkpoints so far. A requested one during the run
    (someone's CREATE DATABASE, a manual CHECKPOINT) flushes the whole server to disk and
    stalls commits: the CPU accounting cannot see it, so the run reports it."""
    from django.db import DatabaseError, connection

    queries = (
        "SELECT num_timed, num_requested FROM pg_stat_checkpointer",  # PostgreSQL 17+
        "SELECT checkpoints_timed, checkpoints_req FROM pg_stat_bgwriter",
    )
    for query in queries:
        try:
            with connection.cursor() as cursor:
                cursor.execute(query)
                timed, requested = cursor.fetchone()
                return int(timed), int(requested)
        except DatabaseError:
            continue
    return None


def machine_facts(server_workers: int, concurrency: int) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
        cursor.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('synchronous_commit', 'fsync', 'shared_buffers', 'max_connections')"
        )
        pg_settings = dict(cursor.fetchall())
    meminfo = _read("/proc/meminfo") or ""
    mem_kb = next((int(line.split()[1]) for line in meminfo.splitlines() if "MemTotal" in line), 0)
    return {
        "cpu": tools.cpu_model(_read("/proc/cpuinfo") or ""),
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024),
        "python": platform.python_version(),
        "postgresql": pg_version.split()[0],
        "pg_settings": pg_settings,
        "django": importlib.metadata.version("django"),
        "gunicorn": importlib.metadata.version("gunicorn"),
        "gunicorn_workers": server_workers,
        "generator_processes": concurrency,
        "load_before": os.getloadavg()[0],
    }
