"""`make bench-taps`: granted taps per second and their latency, against the app served by
gunicorn on PostgreSQL, next to two references measured in the same run on the same stack
(see bench/README.md):

- ceiling: the framework alone (same JSON, same reader auth, a constant answer);
- minimal: the least a tap can do (ceiling + credential check + one indexed SELECT and one
  INSERT in a transaction).

A warm-up of each endpoint, closed-loop saturation rounds interleaving the three (each keeps
its best), then an open-loop run of each at half its saturation rate (latency). SQL statements
and database round trips per granted tap are counted in-process beforehand. The last line
printed is one JSON object (tools.RESULT_KEYS).

    python -m bench.taps [--cards 10000] [--rounds 5] …   (or: make bench-taps BENCH_ARGS=…)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import math
import multiprocessing
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
from dataclasses import dataclass, field
from pathlib import Path

from . import loadgen, tools

REPO = Path(__file__).resolve().parent.parent
TAPS_PATH = "/api/v1/taps"
CEILING_PATH = "/api/v1/bench/ceiling"
MINIMAL_PATH = "/api/v1/bench/minimal"
MAX_REQUESTS_PER_PHASE = 200_000  # whatever the machine, a phase sends at most this many
PROBE_TAPS = 20
# Not statements of the tap: the transaction's framing, which the minimal reference pays too
# (the same convention as tests/card/test_tap_budget.py). Round trips count them.
FRAMING = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(line: str = "") -> None:
    print(line, flush=True)


# --- environment and database ------------------------------------------------------------------


def bench_environment(args, db_url: str, var_dir: str) -> dict[str, str]:
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
    if args.redis:
        env["REDIS_URL"] = args.redis
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


# --- the SQL count, in-process -----------------------------------------------------------------


@dataclass
class Probe:
    statements: list[str]
    round_trips: int
    granted: bool | None


@dataclass
class SqlCount:
    tap: list[Probe] = field(default_factory=list)
    first_tap: Probe | None = None
    minimal: Probe | None = None
    ceiling: Probe | None = None

    @property
    def sql_per_tap(self) -> int | None:
        granted = [p for p in self.tap if p.granted]
        return max(len(p.statements) for p in granted) if granted else None

    @property
    def round_trips_per_tap(self) -> int | None:
        granted = [p for p in self.tap if p.granted]
        return max(p.round_trips for p in granted) if granted else None


def count_sql(data) -> SqlCount:
    """Send taps (and the references) through the whole stack in this process (Django's
    test client: middleware, ninja, reader auth, the tap pipeline) and count what reaches
    PostgreSQL: statements with CaptureQueriesContext, round trips with libpq's protocol
    trace (one ReadyForQuery per round trip, BEGIN and COMMIT included)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from card import keys
    from ntag424 import sun

    client = Client()
    headers = {"authorization": f"Bearer {data.reader_token}", "host": "127.0.0.1"}
    meta = keys.meta_read_key()

    def url(uid: str, counter: int) -> str:
        raw = bytes.fromhex(uid)
        return sun.build_sun_url(
            settings.SESAME_CARD_URL,
            meta_read_key=meta,
            file_read_key=keys.card_file_read_key(raw),
            uid=raw,
            counter=counter,
        )

    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    trace_fd, trace_path = tempfile.mkstemp(prefix="sesame-bench-trace-")
    pgconn.trace(trace_fd)
    offset = 0

    def send(path: str, uid: str, counter: int, tap_id: str) -> Probe:
        nonlocal offset
        body = json.dumps(
            {"tap_id": tap_id, "credential": url(uid, counter), "reader_time": _now_iso()}
        )
        with CaptureQueriesContext(connection) as queries:
            response = client.post(path, body, content_type="application/json", headers=headers)
        if connection.connection is None or connection.connection.pgconn is not pgconn:
            raise RuntimeError("the database connection changed during the SQL count")
        with open(trace_path) as trace:
            trace.seek(offset)
            text = trace.read()
            offset = trace.tell()
        trips = sum(1 for line in text.splitlines() if "\tB\t" in line and "ReadyForQuery" in line)
        granted = response.json().get("granted") if response.status_code == 200 else None
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}: {response.content!r}")
        statements = [q["sql"] for q in queries.captured_queries]
        return Probe(
            [sql for sql in statements if sql.split()[0].upper() not in FRAMING], trips, granted
        )

    run = secrets.token_hex(3)
    result = SqlCount()
    try:
        uids = data.probe_uids
        result.first_tap = send(TAPS_PATH, uids[0], 1, f"{run}p-0")
        for i in range(1, min(PROBE_TAPS + 1, len(uids))):
            result.tap.append(send(TAPS_PATH, uids[i], 1, f"{run}p-{i}"))
        result.minimal = send(MINIMAL_PATH, uids[0], 1, f"{run}m-0")
        result.ceiling = send(CEILING_PATH, uids[0], 1, f"{run}c-0")
    finally:
        pgconn.untrace()
        os.close(trace_fd)
        os.unlink(trace_path)
    return result


def _now_iso() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat()


# --- gunicorn ----------------------------------------------------------------------------------


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

    def wait_ready(self, token: str, timeout: float = 60) -> None:
        import http.client

        deadline = time.monotonic() + timeout
        body = json.dumps({"tap_id": "ready", "credential": "x", "reader_time": _now_iso()})
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("POST", CEILING_PATH, body=body, headers=headers)
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return
                raise RuntimeError(f"{CEILING_PATH} answered {status}:\n{self.tail()}")
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn not ready after {timeout:.0f} s:\n{self.tail()}")

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


# --- the generator's processes -----------------------------------------------------------------


class Generator:
    def __init__(self, workers: int, port: int, token: str, uids: list[str], card_url: str):
        context = multiprocessing.get_context("spawn")  # no Django state or DB socket inherited
        self.pipes = []
        self.processes = []
        for index in range(workers):
            parent, child = context.Pipe()
            process = context.Process(
                target=loadgen.worker_main,
                args=(index, child, port, token, uids[index::workers], card_url),
                daemon=True,
            )
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)
        for pipe in self.pipes:
            self._expect(pipe, "ready")

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def _expect(self, pipe, kind: str, timeout: float = 120):
        if not pipe.poll(timeout):
            raise RuntimeError("a load generator worker did not answer")
        got, value = pipe.recv()
        if got != kind:
            raise RuntimeError(f"load generator worker: expected {kind}, got {got}")
        return value

    def top_up(self, per_worker: int) -> None:
        for pipe in self.pipes:
            pipe.send(("top_up", per_worker))
        for pipe in self.pipes:
            self._expect(pipe, "ready")

    def run(self, spec: dict, active: int) -> list[dict]:
        spec = {**spec, "start_at": time.monotonic() + 0.2}
        for pipe in self.pipes[:active]:
            pipe.send(("run", spec))
        timeout = spec["duration"] + loadgen.TIMEOUT_SECONDS + 30
        return [self._expect(pipe, "result", timeout) for pipe in self.pipes[:active]]

    def close(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(("stop", None))
        for process in self.processes:
            process.join(5)
            if process.is_alive():
                process.terminate()


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


# --- the phases --------------------------------------------------------------------------------


@dataclass
class PhaseResult:
    name: str
    concurrency: int
    duration: float
    completed: int  # answered within the window (granted ones only, for taps)
    latencies: list[float]
    errors: int
    statuses: dict
    reasons: dict
    cpu: dict | None = None
    target_rate: float | None = None

    @property
    def rate(self) -> float:
        return tools.rate_per_second(self.completed, self.duration)

    def ms(self, p: float) -> float | None:
        return 1000 * tools.percentile(self.latencies, p) if self.latencies else None


def _merge(name, concurrency, duration, results, *, granted_only) -> PhaseResult:
    statuses: dict = {}
    reasons: dict = {}
    for r in results:
        for key, value in r["statuses"].items():
            statuses[str(key)] = statuses.get(str(key), 0) + value
        for key, value in r["reasons"].items():
            reasons[key] = reasons.get(key, 0) + value
    key = "granted_in_window" if granted_only else "in_window"
    return PhaseResult(
        name=name,
        concurrency=concurrency,
        duration=duration,
        completed=sum(r[key] for r in results),
        latencies=[latency for r in results for latency in r["latencies"]],
        errors=sum(r["errors"] for r in results),
        statuses=statuses,
        reasons=reasons,
    )


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    code: str  # tap ids of its runs start with <run><code>

    @property
    def is_tap(self) -> bool:
        return self.path == TAPS_PATH


ENDPOINTS = (
    Endpoint("ceiling", CEILING_PATH, "c"),
    Endpoint("minimal", MINIMAL_PATH, "m"),
    Endpoint("taps", TAPS_PATH, "t"),
)


@dataclass
class EndpointResult:
    name: str
    rounds: list[PhaseResult]
    latency: PhaseResult | None = None

    @property
    def saturation(self) -> PhaseResult:
        """The best round: interference from other processes only ever slows a round."""
        return max(self.rounds, key=lambda phase: phase.rate)


class Runner:
    def __init__(self, gen: Generator, server: Server, args, run: str, database: str):
        self.gen, self.server, self.args, self.run = gen, server, args, run
        self.database = database
        self.cap_rate = MAX_REQUESTS_PER_PHASE / max(args.duration, 1)
        self.granted_answers = 0  # every granted tap answer, warm-ups included

    def _measured(self, spec: dict, active: int, name: str, *, is_tap: bool) -> PhaseResult:
        def snapshot() -> CpuSnapshot:
            return cpu_snapshot(
                self.server.process.pid, self.gen.pids, self.database, bool(self.args.redis)
            )

        with CpuWatch(snapshot) as watch:
            results = self.gen.run(spec, active)
        phase = _merge(name, active, spec["duration"], results, granted_only=is_tap)
        phase.cpu = watch.usage()
        self.granted_answers += phase.reasons.get("granted", 0)
        return phase

    def saturate(self, endpoint: Endpoint, duration: float, tag: str, name: str) -> PhaseResult:
        """Closed loop: every generator process sends, waits for the answer, sends again."""
        concurrency = self.args.concurrency
        max_requests = min(MAX_REQUESTS_PER_PHASE, math.ceil(self.cap_rate * duration))
        per_worker = math.ceil(max_requests / concurrency) + 1
        if endpoint.is_tap:
            self.gen.top_up(per_worker)
        spec = {
            "path": endpoint.path,
            "mode": "closed",
            "tag": f"{self.run}{endpoint.code}{tag}",
            "fresh": endpoint.is_tap,
            "check_granted": endpoint.is_tap,
            "duration": duration,
            "max_requests": per_worker,
        }
        return self._measured(spec, concurrency, name, is_tap=endpoint.is_tap)

    def pace(self, endpoint: Endpoint, rate: float, duration: float) -> PhaseResult:
        """Open loop at `rate` requests a second, spread evenly over the processes."""
        workers = len(self.gen.pipes)
        if endpoint.is_tap:
            first = tools.open_loop_offsets(rate=rate, workers=workers, index=0, duration=duration)
            self.gen.top_up(len(first) + 1)
        spec = {
            "path": endpoint.path,
            "mode": "open",
            "tag": f"{self.run}{endpoint.code}l",
            "fresh": endpoint.is_tap,
            "check_granted": endpoint.is_tap,
            "duration": duration,
            "rate": rate,
            "workers": workers,
        }
        phase = self._measured(spec, workers, f"{endpoint.name} latency", is_tap=endpoint.is_tap)
        phase.target_rate = rate
        return phase


def measure_all(runner: Runner, args) -> dict[str, EndpointResult]:
    """Warm-up, then saturation rounds interleaving the three endpoints (so a disturbance
    hits them alike; each keeps its best round), then each one's latency at half its rate."""
    results = {endpoint.name: EndpointResult(endpoint.name, []) for endpoint in ENDPOINTS}
    for endpoint in ENDPOINTS:
        runner.saturate(endpoint, args.warmup, "w", f"{endpoint.name} warm-up")
    for index in range(args.rounds):
        for endpoint in ENDPOINTS:
            phase = runner.saturate(
                endpoint, args.duration, f"s{index}", f"{endpoint.name} round {index + 1}"
            )
            results[endpoint.name].rounds.append(phase)
            log(phase_line(phase))
            if endpoint.name == "ceiling":
                # Nothing is faster than the ceiling: it bounds the taps to precompute.
                runner.cap_rate = min(runner.cap_rate, 1.5 * phase.rate + 50)
    for endpoint in ENDPOINTS:
        result = results[endpoint.name]
        half = result.saturation.rate / 2
        if half <= 0:
            raise RuntimeError(f"{endpoint.name}: nothing answered: {result.saturation.statuses}")
        result.latency = runner.pace(endpoint, half, args.latency)
        log(phase_line(result.latency))
    return results


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


# --- report ------------------------------------------------------------------------------------


def _fmt(value, spec: str = ".1f", missing: str = "—") -> str:
    return missing if value is None else format(value, spec)


def phase_line(phase: PhaseResult) -> str:
    cpu = phase.cpu or {}
    completed = max(phase.completed, 1)

    def per_request(group: str) -> str:
        return f"{1000 * cpu.get(group, 0) / completed:.2f}"

    target = f" (paced {phase.target_rate:.0f}/s)" if phase.target_rate else ""
    return (
        f"  {phase.name:<20} c={phase.concurrency:<3} {phase.rate:8.1f}/s{target:<17} "
        f"p50 {_fmt(phase.ms(50), '6.2f')} ms  p99 {_fmt(phase.ms(99), '6.2f')} ms  "
        f"max {_fmt(phase.ms(100), '6.1f')} ms  "
        f"busy {cpu.get('busy_pct', 0):5.1f}%  CPU ms/req app {per_request('app')} "
        f"pg {per_request('postgres')} gen {per_request('generator')} "
        + (f"redis {per_request('redis')} " if "redis" in cpu else "")
        + f"other {per_request('other')}"
        + (f"  errors {phase.errors}" if phase.errors else "")
    )


def other_cpu_pct(phase: PhaseResult) -> float:
    """How much of the machine processes outside the benchmark used during a phase."""
    cpu = phase.cpu or {}
    return 100 * cpu.get("other", 0) / (phase.duration * (os.cpu_count() or 1))


def report(machine, counts: SqlCount, endpoints: dict[str, EndpointResult], extra) -> str:
    taps, ceiling, minimal = endpoints["taps"], endpoints["ceiling"], endpoints["minimal"]
    log()
    log(
        f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB; "
        f"Python {machine['python']}, PostgreSQL {machine['postgresql']} "
        f"(synchronous_commit={machine['pg_settings'].get('synchronous_commit')}), "
        f"Django {machine['django']}, gunicorn {machine['gunicorn']} with "
        f"{machine['gunicorn_workers']} sync workers; {machine['generator_processes']} load "
        f"generator processes on the same machine; load average before: "
        f"{machine['load_before']:.2f}"
    )
    log()
    log(
        "SQL per request (in-process through the whole stack, steady state; statements "
        "without BEGIN/COMMIT, round trips with them):"
    )
    probes = (
        ("granted tap", counts.tap[0] if counts.tap else None),
        ("minimal", counts.minimal),
        ("ceiling", counts.ceiling),
    )
    for name, probe in probes:
        if probe is None:
            continue
        log(f"  {name}: {len(probe.statements)} statements, {probe.round_trips} round trips")
        for statement in probe.statements:
            log(f"    {' '.join(statement.split())[:110]}")
    if counts.first_tap is not None:
        log(
            f"  (the first tap a gunicorn worker sees from a reader: "
            f"{len(counts.first_tap.statements)} statements, {counts.first_tap.round_trips} "
            f"round trips: + the reader's look-up, cached 30 s, and its heartbeat, once a minute)"
        )
    log()
    log(
        "kept for each endpoint: its best saturation round, then its latency run at half that"
        " rate (CPU ms/req: gunicorn workers, PostgreSQL, this generator, other processes):"
    )
    for endpoint in (ceiling, minimal, taps):
        rounds = ", ".join(f"{phase.rate:.0f}" for phase in endpoint.rounds)
        log(phase_line(endpoint.saturation) + f"   [rounds: {rounds}]")
        log(phase_line(endpoint.latency))
    disturbed = []
    for endpoint in (ceiling, minimal, taps):
        for phase in (*endpoint.rounds, endpoint.latency):
            bad = {k: v for k, v in phase.statuses.items() if k != "200"}
            refused = {k: v for k, v in phase.reasons.items() if k != "granted"}
            if bad or refused or phase.errors:
                log(f"  ! {phase.name}: statuses {phase.statuses} reasons {phase.reasons}")
        for phase in (endpoint.saturation, endpoint.latency):
            if other_cpu_pct(phase) > 5:
                disturbed.append(
                    f"{phase.name} (other processes used {other_cpu_pct(phase):.0f}% of the CPU)"
                )
    during = machine.get("checkpoints", {})
    if during.get("requested"):
        disturbed.append(
            f"{during['requested']} checkpoint(s) requested on the PostgreSQL server (a CREATE"
            " DATABASE elsewhere?), which stall commits"
        )
    if disturbed:
        log(
            "  ! disturbed by others: "
            + "; ".join(disturbed)
            + ". Numbers are lower than on a quiet machine: run again."
        )
    taps_rate = taps.saturation.rate
    ratio = taps_rate / minimal.saturation.rate if minimal.saturation.rate else None

    def share(a: float, b: float) -> str:
        return f"{a / b:.2f}" if b else "—"

    log()
    log(f"granted taps/s  {taps_rate:8.1f}")
    log(f"ceiling/s       {ceiling.saturation.rate:8.1f}")
    log(f"minimal/s       {minimal.saturation.rate:8.1f}")
    paired = [t.rate / m.rate for t, m in zip(taps.rounds, minimal.rounds, strict=True) if m.rate]
    log(
        "taps ÷ minimal round by round (each pair a few seconds apart): "
        + ", ".join(f"{r:.2f}" for r in paired)
    )
    log(
        f"taps ÷ minimal {share(taps_rate, minimal.saturation.rate)}, "
        f"taps ÷ ceiling {share(taps_rate, ceiling.saturation.rate)}, "
        f"minimal ÷ ceiling {share(minimal.saturation.rate, ceiling.saturation.rate)}"
    )
    log(
        f"tap latency at {taps.latency.target_rate:.0f}/s (half of saturation, open loop): "
        f"p50 {_fmt(taps.latency.ms(50), '.2f')} ms, p99 {_fmt(taps.latency.ms(99), '.2f')} ms"
    )
    result = {
        "taps_per_s": taps_rate,
        "ceiling_per_s": ceiling.saturation.rate,
        "minimal_per_s": minimal.saturation.rate,
        "p50_ms": taps.latency.ms(50),
        "p99_ms": taps.latency.ms(99),
        "sql_per_tap": counts.sql_per_tap,
        "ratio": ratio,
    }
    targets = tools.evaluate_targets(result)
    log()
    log("targets:")
    for target in targets:
        log(f"  [{'met' if target.met else 'MISSED'}] {target.name}: {target.detail}")
    del result["ratio"]
    machine_short = {k: machine[k] for k in ("cpu", "cores", "python", "postgresql")}
    return tools.result_line(
        **result,
        round_trips_per_tap=counts.round_trips_per_tap,
        minimal_round_trips=counts.minimal.round_trips if counts.minimal else None,
        latency_rate_per_s=round(taps.latency.target_rate, 1),
        targets_met={t.name: t.met for t in targets},
        disturbed=bool(disturbed),
        machine={**machine_short, "gunicorn_workers": machine["gunicorn_workers"]},
        **extra,
    )


# --- main --------------------------------------------------------------------------------------


def parse_args(argv=None):
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(
        prog="python -m bench.taps", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--server-workers", type=int, default=tools.server_workers(cores))
    parser.add_argument(
        "--concurrency",
        type=int,
        default=0,
        help="load generator processes, one connection each (default: 2 × server workers)",
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per endpoint")
    parser.add_argument(
        "--duration", type=float, default=3.0, help="seconds per saturation round and endpoint"
    )
    parser.add_argument("--rounds", type=int, default=5, help="saturation rounds")
    parser.add_argument("--latency", type=float, default=6.0, help="latency run, seconds")
    parser.add_argument(
        "--redis",
        default=os.environ.get("BENCH_REDIS_URL", ""),
        help="serve with this REDIS_URL as the cache (default: none, per-process memory)",
    )
    args = parser.parse_args(argv)
    if not args.concurrency:
        args.concurrency = 2 * args.server_workers
    if args.cards < args.concurrency:
        parser.error("--cards must be at least --concurrency")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    db_url = tools.bench_database_url(os.environ)
    if not tools.is_bench_database(db_url):
        log(f"refusing {db_url}: the benchmark needs its own PostgreSQL database named *bench*")
        return 2
    var_dir = tempfile.mkdtemp(prefix="sesame-bench-")
    (Path(var_dir) / "static").mkdir()
    os.environ.pop("REDIS_URL", None)
    os.environ.update(bench_environment(args, db_url, var_dir))
    server = gen = None
    try:
        log(
            f"Sésame tap benchmark: gunicorn on PostgreSQL ({db_url.rsplit('/', 1)[-1]}), "
            f"{args.cards} cards"
        )
        try:
            ensure_database(db_url)
        except Exception as error:  # noqa: BLE001 - any failure to reach the server ends here
            log(f"cannot reach PostgreSQL for {db_url}: {error}")
            return 1
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from . import dataset

        call_command("migrate", verbosity=0, interactive=False)
        data = dataset.prepare(cards=args.cards)
        log(f"setup: {time.monotonic() - started:.1f} s (database, migrations, data)")
        counts = count_sql(data)
        machine = machine_facts(args.server_workers, args.concurrency)
        checkpoints_before = checkpoints()
        connection.close()  # the orchestrator keeps no connection open during the runs

        server = Server(
            os.environ.copy(), args.server_workers, free_port(), Path(var_dir) / "gunicorn.log"
        )
        server.wait_ready(data.reader_token)
        from django.conf import settings

        gen = Generator(
            args.concurrency,
            server.port,
            data.reader_token,
            data.load_uids,
            settings.SESAME_CARD_URL,
        )
        log(f"server and generator ready: {time.monotonic() - started:.1f} s")
        run = secrets.token_hex(3)
        runner = Runner(gen, server, args, run, settings.DATABASES["default"]["NAME"])
        endpoints = measure_all(runner, args)
        gen.close()
        gen = None
        server.stop()
        server = None

        from card.models import Tap

        stored = Tap.objects.filter(
            reader_id=data.reader_id, client_tap_id__startswith=f"{run}t", granted=True
        ).count()
        log(
            f"granted taps: {runner.granted_answers} answers seen by the generator, {stored} rows"
            " stored by the server"
            + ("" if stored == runner.granted_answers else "  ! they differ")
        )
        checkpoints_after = checkpoints()
        if checkpoints_before and checkpoints_after:
            machine["checkpoints"] = {
                "timed": checkpoints_after[0] - checkpoints_before[0],
                "requested": checkpoints_after[1] - checkpoints_before[1],
            }
        connection.close()
        elapsed = time.monotonic() - started
        line = report(
            machine,
            counts,
            endpoints,
            {
                "cards": args.cards,
                "concurrency": args.concurrency,
                "bench_seconds": round(elapsed, 1),
            },
        )
        log(f"bench took {elapsed:.0f} s")
        log(line)
        return 0
    finally:
        if gen is not None:
            gen.close()
        if server is not None:
            server.stop()
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
