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
import json
import math
import multiprocessing
import os
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import loadgen, tools
from .stack import (
    CEILING_PATH,
    FRAMING,
    CpuSnapshot,
    CpuWatch,
    Server,
    StackRefused,
    checkpoints,
    cpu_snapshot,
    django_on_bench_database,
    free_port,
    log,
    machine_facts,
    now_iso,
)

TAPS_PATH = "/api/v1/taps"
MINIMAL_PATH = "/api/v1/bench/minimal"
MAX_REQUESTS_PER_PHASE = 200_000  # whatever the machine, a phase sends at most this many
PROBE_TAPS = 20


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
            {"tap_id": tap_id, "credential": url(uid, counter), "reader_time": now_iso()}
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
    try:
        with django_on_bench_database(
            title=f"Sésame tap benchmark, {args.cards} cards",
            prefix="sesame-bench-",
            redis=args.redis,
        ) as var_dir:
            return _run(args, started, var_dir)
    except StackRefused as refusal:
        log(str(refusal))
        return refusal.code


def _run(args, started: float, var_dir: str) -> int:
    from django.db import connection

    server = gen = None
    try:
        from . import dataset

        data = dataset.prepare(cards=args.cards)
        log(f"setup: {time.monotonic() - started:.1f} s (database, migrations, data)")
        counts = count_sql(data)
        machine = machine_facts(args.server_workers, args.concurrency)
        checkpoints_before = checkpoints()
        connection.close()  # the orchestrator keeps no connection open during the runs

        server = Server(
            os.environ.copy(), args.server_workers, free_port(), Path(var_dir) / "gunicorn.log"
        )
        server.wait_for_ceiling(data.reader_token)
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


if __name__ == "__main__":
    sys.exit(main())
