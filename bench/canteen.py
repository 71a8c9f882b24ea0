"""`make bench-canteen`: the morning canteen bookings open. Every household of a town books a
month of lunches for its one or two children at once, through the real endpoint
(`POST /api/v1/canteen/bookings`, the parent's browser session with its CSRF check), against
gunicorn on PostgreSQL, next to a **minimal** reference measured in the same run on the same
stack (`POST /api/v1/bench/canteen-minimal`: the same session, then one transaction inserting
the month's rows, nothing checked). See bench/README.md.

Phases: a warm-up of each endpoint; the minimal's burst (every child's month, another month);
the real burst (every child's month; one request in `--retry-every` sent twice with the same
key); the real endpoint in an open loop at half its burst rate (latency). Then the database is
counted against what the clients were told: `lost` (a day a client was told booked that is
not), `duplicated` (a row more than told: twice the same day, or a day nobody was told), and
the service-days' counters against the rows. The last line printed is one JSON object.

    python -m bench.canteen [--households 5000] [--schools 20] …   (or: make bench-canteen)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing
import os
import secrets
import signal
import sys
import time
from calendar import monthrange
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import canteen_loadgen, tools
from .stack import (
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
)

BOOKINGS_PATH = "/api/v1/canteen/bookings"
MINIMAL_PATH = "/api/v1/bench/canteen-minimal"
WARMUP_PER_WORKER = 10

# Targets of the issue ("The rush, measured").
TARGET_RATIO = 0.5
TARGET_P99_MS = 200.0


# --- the months booked -------------------------------------------------------------------------


def month_days(first: date, service_id: int) -> list[str]:
    """The days of the month starting `first` that the bench's lunch can be booked on now
    (its weekdays, no public holiday), as the real endpoint wants them."""
    from django.utils import timezone

    from identity.schooling.calendar import school_calendar
    from services.canteen.actions import why_not_bookable
    from services.canteen.models import Service

    service = Service.objects.select_related("site__school").get(pk=service_id)
    last = first.replace(day=monthrange(first.year, first.month)[1])
    calendar = school_calendar(service.site.school, first, last)
    now = timezone.now()
    days = []
    day = first
    while day <= last:
        if why_not_bookable(service, day, calendar, now) is None:
            days.append(day.isoformat())
        day = date.fromordinal(day.toordinal() + 1)
    return days


def next_months(today: date, count: int) -> list[date]:
    months, year, month = [], today.year, today.month
    for _ in range(count):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        months.append(date(year, month, 1))
    return months


# --- SQL per booking, in-process ---------------------------------------------------------------


@dataclass
class SqlProbe:
    days: int
    statements: list[str]


def count_sql(probe_jobs, month: list[str], short: list[str], minimal_month: list[str]) -> dict:
    """A month booking and a 5-day one through the whole stack in this process (Django's test
    client with CSRF checks on, the parent's session cookie): the statements each sends,
    without BEGIN/COMMIT, as bench-taps counts them."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    def send(path: str, job, days: list[str], key: str) -> SqlProbe:
        client = Client(enforce_csrf_checks=True)
        client.cookies["sessionid"] = job.session
        client.cookies["csrftoken"] = job.csrf
        body = {"child": job.child, "service": job.service, "days": days, "idempotency_key": key}
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                path,
                body,
                content_type="application/json",
                headers={"x-csrftoken": job.csrf, "host": "127.0.0.1"},
            )
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}: {response.content!r}")
        statements = [q["sql"] for q in queries.captured_queries]
        return SqlProbe(
            len(days), [sql for sql in statements if sql.split()[0].upper() not in FRAMING]
        )

    run = secrets.token_hex(3)
    send(BOOKINGS_PATH, probe_jobs[0], month, f"{run}-warm")  # the first of a process
    return {
        "month": send(BOOKINGS_PATH, probe_jobs[1], month, f"{run}-month"),
        "five_days": send(BOOKINGS_PATH, probe_jobs[2], short, f"{run}-short"),
        "minimal": send(MINIMAL_PATH, probe_jobs[3], minimal_month, f"{run}-minimal"),
    }


# --- the generator's processes -----------------------------------------------------------------


class Generator:
    def __init__(self, workers: int, port: int, jobs: list):
        context = multiprocessing.get_context("spawn")  # no Django state or DB socket inherited
        self.pipes, self.processes = [], []
        for index in range(workers):
            parent, child = context.Pipe()
            slice_ = [(j.session, j.csrf, j.child, j.service) for j in jobs[index::workers]]
            process = context.Process(
                target=canteen_loadgen.worker_main,
                args=(index, child, port, slice_),
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

    def run(self, spec: dict, timeout: float) -> tuple[float, list[dict]]:
        start_at = time.monotonic() + 0.3
        spec = {**spec, "start_at": start_at}
        for pipe in self.pipes:
            pipe.send(("run", spec))
        return start_at, [self._expect(pipe, "result", timeout) for pipe in self.pipes]

    def close(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(("stop", None))
        for process in self.processes:
            process.join(2)
            if process.is_alive():
                process.terminate()


@dataclass
class Phase:
    name: str
    sent: int
    ok: int
    drain_s: float
    latencies: list[float]
    statuses: dict
    errors: int
    told: list = field(default_factory=list)
    retries: int = 0
    retry_mismatches: int = 0
    cpu: dict | None = None
    target_rate: float | None = None

    @property
    def rate(self) -> float:
        return tools.rate_per_second(self.ok, self.drain_s)

    def ms(self, p: float) -> float | None:
        return 1000 * tools.percentile(self.latencies, p) if self.latencies else None


class Runner:
    def __init__(self, gen: Generator, server: Server, database: str, run: str):
        self.gen, self.server, self.database, self.run = gen, server, database, run
        self.told: list = []  # every answer of the real endpoint, all phases

    def phase(self, name: str, spec: dict, *, timeout: float = 600) -> Phase:
        def snapshot() -> CpuSnapshot:
            return cpu_snapshot(self.server.process.pid, self.gen.pids, self.database)

        spec = {**spec, "tag": f"{self.run}{name.replace(' ', '')}"}
        with CpuWatch(snapshot) as watch:
            start_at, results = self.gen.run(spec, timeout)
        statuses: Counter = Counter()
        for r in results:
            statuses.update({str(k): v for k, v in r["statuses"].items()})
        told = [t for r in results for t in r["told"]]
        drain = max(r["last_done"] for r in results) - start_at
        result = Phase(
            name=name,
            sent=sum(r["sent"] for r in results),
            ok=statuses.get("200", 0),
            drain_s=drain if spec["mode"] == "burst" else spec["duration"],
            latencies=[x for r in results for x in r["latencies"]],
            statuses=dict(statuses),
            errors=sum(r["errors"] for r in results),
            told=told,
            retries=sum(r["retries"] for r in results),
            retry_mismatches=sum(r["retry_mismatches"] for r in results),
        )
        result.cpu = watch.usage()
        if spec["path"] == BOOKINGS_PATH:
            self.told.extend(told)
        return result


def phase_line(phase: Phase) -> str:
    cpu = phase.cpu or {}
    done = max(phase.ok, 1)

    def per(group: str) -> str:
        return f"{1000 * cpu.get(group, 0) / done:.1f}"

    paced = f" (paced {phase.target_rate:.0f}/s)" if phase.target_rate else ""
    p50, p99, top = phase.ms(50), phase.ms(99), phase.ms(100)
    return (
        f"  {phase.name:<16} {phase.ok:>6} ok in {phase.drain_s:6.1f} s = {phase.rate:7.1f}/s"
        f"{paced:<16} p50 {p50 or 0:7.1f} ms  p99 {p99 or 0:7.1f} ms  max {top or 0:7.1f} ms  "
        f"busy {cpu.get('busy_pct', 0):5.1f}%  CPU ms/booking app {per('app')} "
        f"pg {per('postgres')} gen {per('generator')} other {per('other')}"
        + (f"  statuses {phase.statuses}" if set(phase.statuses) - {"200"} else "")
    )


# --- counted from the database afterwards ------------------------------------------------------


def count_outcome(told: list, months: list[str], probes: set[str]) -> dict:
    """What the clients were told against what the database holds, for the real endpoint's
    months: lost days, rows more than told, and counters that differ from the rows."""
    from django.db.models import Count

    from services.canteen.models import Booking, ServiceDay

    from .canteen_dataset import LAST_NAME

    expected = Counter()
    for child, service, days in told:
        for day in days:
            expected[(child, service, day)] = 1  # a retry's answer names the same days
    firsts = [date.fromisoformat(m) for m in months]
    lasts = [m.replace(day=monthrange(m.year, m.month)[1]) for m in firsts]
    rows = Counter()
    per_day = Counter()
    for first, last in zip(firsts, lasts, strict=True):
        found = (
            Booking.objects.filter(
                child__last_name=LAST_NAME, state=Booking.State.BOOKED, day__range=(first, last)
            )
            .values_list("child__public_id", "service__public_id", "day", "service_id")
            .order_by()
        )
        for child, service, day, service_id in found:
            if child in probes:
                continue  # the in-process SQL count's bookings: no client was told
            rows[(child, service, day.isoformat())] += 1
            per_day[(service_id, day)] += 1
    lost = sum(1 for key in expected if key not in rows)
    duplicated = sum(n - 1 for n in rows.values()) + sum(1 for key in rows if key not in expected)
    counters = {
        (s, d): n
        for s, d, n in ServiceDay.objects.filter(
            service__site__school__name__startswith="École du banc d'essai"
        ).values_list("service_id", "day", "booked")
        if any(f <= d <= la for f, la in zip(firsts, lasts, strict=True))
    }
    # The counters hold the probes' bookings too: compared with every booked row.
    for first, last in zip(firsts, lasts, strict=True):
        for service_id, day in Booking.objects.filter(
            child__public_id__in=probes, state=Booking.State.BOOKED, day__range=(first, last)
        ).values_list("service_id", "day"):
            per_day[(service_id, day)] += 1
    drift = sum(abs(counters.get(key, 0) - n) for key, n in per_day.items()) + sum(
        n for key, n in counters.items() if key not in per_day
    )
    by_state = dict(
        Booking.objects.filter(child__last_name=LAST_NAME)
        .values_list("state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {
        "told_days": len(expected),
        "stored_days": sum(rows.values()),
        "lost": lost,
        "duplicated": duplicated,
        "counter_drift": drift,
        "rows_by_state": by_state,
    }


# --- main --------------------------------------------------------------------------------------


def parse_args(argv=None):
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(
        prog="python -m bench.canteen", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--households", type=int, default=5000)
    parser.add_argument("--schools", type=int, default=20)
    parser.add_argument("--server-workers", type=int, default=tools.server_workers(cores))
    parser.add_argument(
        "--concurrency",
        type=int,
        default=0,
        help="load generator processes, one connection each (default: 2 × server workers)",
    )
    parser.add_argument("--latency", type=float, default=8.0, help="latency run, seconds")
    parser.add_argument(
        "--minimal-sample",
        type=int,
        default=2000,
        help="month bookings sent to the minimal reference (its rate needs no more)",
    )
    parser.add_argument(
        "--retry-every",
        type=int,
        default=20,
        help="in the burst, send one booking in this many twice with the same key",
    )
    args = parser.parse_args(argv)
    if not args.concurrency:
        args.concurrency = 2 * args.server_workers
    if args.households < 2 * args.concurrency:
        parser.error("--households must be at least twice --concurrency")
    return args


def _stop(signum, frame):
    raise SystemExit(128 + signum)  # the `finally` below stops gunicorn and the generator


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    started = time.monotonic()
    try:
        with django_on_bench_database(
            title=(
                f"Sésame canteen benchmark, {args.households} households, {args.schools} schools"
            ),
            prefix="sesame-bench-canteen-",
        ) as var_dir:
            return _run(args, started, var_dir)
    except StackRefused as refusal:
        log(str(refusal))
        return refusal.code


def _run(args, started: float, var_dir: str) -> int:  # noqa: PLR0915 - one run, in order
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    server = gen = None
    try:
        from services.canteen.models import Service

        from . import canteen_dataset

        data = canteen_dataset.prepare(households=args.households, schools=args.schools)
        service_id = Service.objects.get(public_id=data.jobs[0].service).pk
        # burst, minimal, latency, probes and warm-up, minimal warm-up: one month each, so
        # that no two phases book the same child's same day.
        months = next_months(timezone.localdate(), 5)
        days = [month_days(m, service_id) for m in months]
        log(
            f"setup: {time.monotonic() - started:.1f} s; {len(data.jobs)} children of "
            f"{args.households} households book {len(days[0])} days of {months[0]:%B %Y} each"
        )
        sql = count_sql(data.probe_jobs, days[3], days[3][:5], days[4])
        machine = machine_facts(args.server_workers, args.concurrency)
        checkpoints_before = checkpoints()
        connection.close()

        server = Server(
            os.environ.copy(), args.server_workers, free_port(), Path(var_dir) / "gunicorn.log"
        )
        server.wait_ready(BOOKINGS_PATH)  # any answer (401 without a session): it serves
        gen = Generator(args.concurrency, server.port, data.jobs)
        log(f"server and generator ready: {time.monotonic() - started:.1f} s")
        runner = Runner(gen, server, settings.DATABASES["default"]["NAME"], secrets.token_hex(3))
        every = len(data.jobs)  # more than a worker's slice: each sends all of its own
        burst = {"mode": "burst", "first": 0, "count": every}
        warm = {"mode": "burst", "first": 0, "count": WARMUP_PER_WORKER}
        runner.phase("warm-up", {**warm, "path": BOOKINGS_PATH, "days": days[3]})
        runner.phase("minimal warm-up", {**warm, "path": MINIMAL_PATH, "days": days[4]})
        # The reference needs a rate, not every household: a sample keeps the run short.
        sample = {**burst, "count": math.ceil(args.minimal_sample / args.concurrency)}
        minimal = runner.phase("minimal burst", {**sample, "path": MINIMAL_PATH, "days": days[1]})
        log(phase_line(minimal))
        real = runner.phase(
            "booking burst",
            {**burst, "path": BOOKINGS_PATH, "days": days[0], "retry_every": args.retry_every},
        )
        log(phase_line(real))
        half = real.rate / 2
        if half <= 0:
            raise RuntimeError(f"no booking answered: {real.statuses}")
        latency = runner.phase(
            "booking latency",
            {
                "mode": "open",
                "path": BOOKINGS_PATH,
                "days": days[2],
                "first": 0,
                "count": every,
                "rate": half,
                "workers": args.concurrency,
                "duration": args.latency,
            },
        )
        latency.target_rate = half
        log(phase_line(latency))
        gen.close()
        gen = None
        server.stop()
        server = None

        outcome = count_outcome(
            runner.told,
            [m.isoformat() for m in (months[0], *months[2:4])],
            {job.child for job in data.probe_jobs},
        )
        checkpoints_after = checkpoints()
        machine["load_after"] = os.getloadavg()[0]
        connection.close()
        elapsed = time.monotonic() - started
        log()
        log(
            f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB; "
            f"PostgreSQL {machine['postgresql']} (synchronous_commit="
            f"{machine['pg_settings'].get('synchronous_commit')}), gunicorn "
            f"{machine['gunicorn_workers']} sync workers, {args.concurrency} generator processes;"
            f" load average {machine['load_before']:.2f} before, {machine['load_after']:.2f} after"
        )
        for name, probe in sql.items():
            log(f"SQL of {name} ({probe.days} days): {len(probe.statements)} statements")
        for statement in sql["month"].statements:
            log(f"    {' '.join(statement.split())[:120]}")
        log(
            f"counted from the database: {outcome['told_days']} days told booked, "
            f"{outcome['stored_days']} stored; lost {outcome['lost']}, duplicated "
            f"{outcome['duplicated']}, counters off by {outcome['counter_drift']}; retries "
            f"{real.retries}, of which answered differently {real.retry_mismatches}"
        )
        disturbed = []
        if checkpoints_before and checkpoints_after:
            requested = checkpoints_after[1] - checkpoints_before[1]
            if requested:
                disturbed.append(f"{requested} checkpoint(s) requested on the server")
        for phase in (minimal, real, latency):
            other = (
                100 * (phase.cpu or {}).get("other", 0) / (phase.drain_s * (os.cpu_count() or 1))
            )
            if other > 5:
                disturbed.append(f"{phase.name}: other processes used {other:.0f}% of the CPU")
        if disturbed:
            log("  ! disturbed by others: " + "; ".join(disturbed))
        ratio = real.rate / minimal.rate if minimal.rate else None
        sql_month, sql_short = len(sql["month"].statements), len(sql["five_days"].statements)
        targets = {
            "lost = 0": outcome["lost"] == 0,
            "duplicated = 0": outcome["duplicated"] == 0,
            f"ratio >= {TARGET_RATIO}": ratio is not None and ratio >= TARGET_RATIO,
            f"p99 <= {TARGET_P99_MS:.0f} ms": (latency.ms(99) or 1e9) <= TARGET_P99_MS,
            "SQL does not grow with the days": sql_month == sql_short,
        }
        log("targets:")
        for name, met in targets.items():
            log(f"  [{'met' if met else 'MISSED'}] {name}")
        log(f"bench took {elapsed:.0f} s")
        record = {
            "bookings_per_s": round(real.rate, 1),
            "minimal_per_s": round(minimal.rate, 1),
            "ratio": None if ratio is None else round(ratio, 3),
            "p50_ms": round(latency.ms(50) or 0, 1),
            "p99_ms": round(latency.ms(99) or 0, 1),
            "sql_per_booking": sql_month,
            "lost": outcome["lost"],
            "duplicated": outcome["duplicated"],
            "drain_s": round(real.drain_s, 1),
            "sql_per_5_day_booking": sql_short,
            "sql_minimal": len(sql["minimal"].statements),
            "month_bookings": real.ok,
            "days_per_booking": len(days[0]),
            "counter_drift": outcome["counter_drift"],
            "latency_rate_per_s": round(half, 1),
            "statuses": real.statuses,
            "targets_met": targets,
            "disturbed": bool(disturbed),
            "machine": {
                "cpu": machine["cpu"],
                "cores": machine["cores"],
                "load_before": round(machine["load_before"], 2),
                "load_after": round(machine["load_after"], 2),
                "postgresql": machine["postgresql"],
                "gunicorn_workers": machine["gunicorn_workers"],
            },
            "households": args.households,
            "schools": args.schools,
            "bench_seconds": round(elapsed, 1),
        }
        log(json.dumps(record, ensure_ascii=False, separators=(", ", ": ")))
        return 0
    finally:
        if gen is not None:
            gen.close()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
