"""Pure helpers of the tap benchmark: statistics, pacing, targets and the result line.

Standard library only and no Django, so they are unit-tested quickly (tests/bench) and the
load generator's processes import them without loading the application."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

# The keys of the benchmark's last output line, in this order (the contract).
RESULT_KEYS = (
    "taps_per_s",
    "ceiling_per_s",
    "minimal_per_s",
    "ratio",
    "p50_ms",
    "p99_ms",
    "sql_per_tap",
)

# Targets of the issue: taps ÷ minimal ≥ 0.6, p99 < 25 ms at half of saturation, ≤ 4 SQL.
TARGET_RATIO = 0.6
TARGET_P99_MS = 25.0
TARGET_SQL_PER_TAP = 4

DEFAULT_BENCH_DATABASE = "sesame_bench"
DEFAULT_BENCH_URL = f"postgres://postgres@127.0.0.1:5432/{DEFAULT_BENCH_DATABASE}"


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0 ≤ p ≤ 100), interpolating linearly between the two closest
    ranks (numpy's default): p50 of [1, 2, 3, 4] is 2.5, p0 the minimum, p100 the maximum."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError("p must be between 0 and 100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def open_loop_offsets(*, rate: float, workers: int, index: int, duration: float) -> list[float]:
    """When worker `index` of `workers` sends, in seconds from the start, so that together
    they send `rate` requests a second evenly spaced, whatever the server answers (open loop:
    a slow answer does not delay the next request, it makes it late, and lateness counts
    in its latency).

    The aggregate schedule is k / rate for k = 0, 1, 2, … below `duration`; worker `index`
    takes every `workers`-th slot starting at slot `index`."""
    if rate <= 0 or workers <= 0 or duration <= 0:
        raise ValueError("rate, workers and duration must be positive")
    if not 0 <= index < workers:
        raise ValueError("index must be in [0, workers)")
    total = math.ceil(duration * rate - 1e-9)  # slots strictly before `duration`
    return [slot / rate for slot in range(index, total, workers)]


def split_evenly(total: int, parts: int) -> list[int]:
    """`total` split into `parts` integers differing by at most one (first parts larger)."""
    if parts <= 0 or total < 0:
        raise ValueError("parts must be positive and total non-negative")
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def rate_per_second(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


@dataclass(frozen=True)
class Target:
    name: str
    met: bool
    detail: str


def evaluate_targets(result: dict) -> list[Target]:
    """The issue's three targets against a result dict (see RESULT_KEYS)."""
    ratio, p99, sql = result["ratio"], result["p99_ms"], result["sql_per_tap"]
    return [
        Target(
            "ratio taps/minimal >= 0.6",
            ratio is not None and ratio >= TARGET_RATIO,
            f"{ratio:.2f}" if ratio is not None else "n/a",
        ),
        Target(
            "p99 < 25 ms at half of saturation",
            p99 is not None and p99 < TARGET_P99_MS,
            f"{p99:.1f} ms" if p99 is not None else "n/a",
        ),
        Target(
            "<= 4 SQL statements per granted tap",
            sql is not None and sql <= TARGET_SQL_PER_TAP,
            f"{sql:g}" if sql is not None else "n/a",
        ),
    ]


def _round(value, digits: int):
    return None if value is None else round(float(value), digits)


def result_line(
    *,
    taps_per_s: float,
    ceiling_per_s: float,
    minimal_per_s: float,
    p50_ms: float | None,
    p99_ms: float | None,
    sql_per_tap: float | None,
    **extra,
) -> str:
    """The benchmark's last output line: one JSON object, the RESULT_KEYS first, then any
    extra fields (machine, round trips, targets). ratio = taps ÷ minimal."""
    clash = set(extra) & set(RESULT_KEYS)
    if clash:
        raise ValueError(f"extra fields may not override {sorted(clash)}")
    ratio = taps_per_s / minimal_per_s if minimal_per_s else None
    record = {
        "taps_per_s": _round(taps_per_s, 1),
        "ceiling_per_s": _round(ceiling_per_s, 1),
        "minimal_per_s": _round(minimal_per_s, 1),
        "ratio": _round(ratio, 3),
        "p50_ms": _round(p50_ms, 2),
        "p99_ms": _round(p99_ms, 2),
        "sql_per_tap": sql_per_tap,
    }
    record.update(extra)
    return json.dumps(record, ensure_ascii=False, separators=(", ", ": "))


def cpu_model(cpuinfo: str) -> str:
    """The CPU's name from the text of /proc/cpuinfo ("unknown" when absent)."""
    for line in cpuinfo.splitlines():
        key, _sep, value = line.partition(":")
        if key.strip() in {"model name", "Model", "cpu model"} and value.strip():
            return value.strip()
    return "unknown"


def bench_database_url(environ: dict) -> str:
    """The benchmark's own database: BENCH_DATABASE_URL as given; otherwise a database named
    sesame_bench on the PostgreSQL server of DATABASE_URL (CI's), otherwise on 127.0.0.1.
    Never the database of DATABASE_URL itself: the benchmark rewrites its cards' counters."""
    explicit = environ.get("BENCH_DATABASE_URL", "").strip()
    if explicit:
        return explicit
    base = environ.get("DATABASE_URL", "").strip()
    parts = urlsplit(base)
    if parts.scheme in {"postgres", "postgresql", "pgsql"} and parts.netloc:
        return urlunsplit(
            (parts.scheme, parts.netloc, f"/{DEFAULT_BENCH_DATABASE}", parts.query, "")
        )
    return DEFAULT_BENCH_URL


_BENCH_NAME = re.compile(r"bench", re.IGNORECASE)


def is_bench_database(url: str) -> bool:
    """Only a PostgreSQL database whose name says "bench" is given to the benchmark."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    return parts.scheme in {"postgres", "postgresql", "pgsql"} and bool(_BENCH_NAME.search(name))


def server_workers(cores: int) -> int:
    """gunicorn's sync workers: two per core (a worker waits on PostgreSQL half the time)."""
    return max(2, 2 * cores)


# --- CPU accounting from /proc (Linux) ---------------------------------------------------------


def machine_ticks(proc_stat: str) -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs from the text of /proc/stat: busy is user, nice,
    system, irq, softirq and steal; idle and iowait are the rest."""
    for line in proc_stat.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            values = [int(v) for v in fields[1:9]] + [0] * (8 - len(fields[1:9]))
            user, nice, system, idle, iowait, irq, softirq, steal = values
            busy = user + nice + system + irq + softirq + steal
            return busy, busy + idle + iowait
    raise ValueError("no cpu line in /proc/stat")


@dataclass(frozen=True)
class ProcessTicks:
    pid: int
    comm: str
    ppid: int
    ticks: int  # user + system clock ticks


def process_ticks(pid: int, stat_line: str) -> ProcessTicks:
    """Parse /proc/<pid>/stat (the command name is in parentheses and may hold spaces)."""
    head, _sep, rest = stat_line.rpartition(")")
    comm = head.partition("(")[2]
    fields = rest.split()
    # fields[0] is the state (field 3 of proc(5)); utime and stime are fields 14 and 15.
    return ProcessTicks(pid, comm, int(fields[1]), int(fields[11]) + int(fields[12]))


_CLIENT_BACKEND = re.compile(r"\(\d+\)|\[local\]")


def counts_as_bench_postgres(title: str, database: str) -> bool:
    """Whether a postgres process (by its title, /proc/<pid>/cmdline) works for the bench:
    the server's own processes (WAL writer, checkpointer…) and the backends connected to the
    bench database, not backends of other databases (someone's test suite on the same
    server), which count as "other" load."""
    if not _CLIENT_BACKEND.search(title):
        return True
    return database in title.replace("\0", " ").split()
