"""The benchmark's pure helpers (bench/tools.py) and the generator's bookkeeping: no server,
no database. `make bench-taps` itself runs by hand (bench/README.md)."""

import json

import pytest
from django.urls import Resolver404, resolve

from bench import loadgen, tools
from card import keys
from card.api import TapIn
from ntag424 import sun

# --- percentile ----------------------------------------------------------------------------


def test_percentile_interpolates_between_ranks():
    assert tools.percentile([4, 1, 3, 2], 50) == 2.5
    assert tools.percentile([1, 2, 3, 4], 0) == 1
    assert tools.percentile([1, 2, 3, 4], 100) == 4
    assert tools.percentile(list(range(1, 101)), 99) == pytest.approx(99.01)
    assert tools.percentile([7.0], 99) == 7.0


@pytest.mark.parametrize(("values", "p"), [([], 50), ([1.0], -1), ([1.0], 101)])
def test_percentile_refuses_nonsense(values, p):
    with pytest.raises(ValueError):  # noqa: PT011 - the message is not the contract
        tools.percentile(values, p)


# --- pacing ----------------------------------------------------------------------------------


def test_open_loop_workers_together_send_evenly_at_the_rate():
    rate, workers, duration = 250.0, 8, 2.0
    schedules = [
        tools.open_loop_offsets(rate=rate, workers=workers, index=i, duration=duration)
        for i in range(workers)
    ]
    together = sorted(offset for schedule in schedules for offset in schedule)
    assert len(together) == int(rate * duration)
    assert together[0] == 0
    assert all(offset < duration for offset in together)
    gaps = {round(b - a, 9) for a, b in zip(together, together[1:], strict=False)}
    assert gaps == {round(1 / rate, 9)}
    # Each worker sends every `workers`-th slot: its own gap is workers / rate.
    assert schedules[3][1] - schedules[3][0] == pytest.approx(workers / rate)


def test_open_loop_offsets_with_fewer_slots_than_workers():
    assert tools.open_loop_offsets(rate=2, workers=4, index=0, duration=1) == [0.0]
    assert tools.open_loop_offsets(rate=2, workers=4, index=1, duration=1) == [0.5]
    assert tools.open_loop_offsets(rate=2, workers=4, index=3, duration=1) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate": 0, "workers": 1, "index": 0, "duration": 1},
        {"rate": 1, "workers": 0, "index": 0, "duration": 1},
        {"rate": 1, "workers": 2, "index": 2, "duration": 1},
    ],
)
def test_open_loop_offsets_refuse_nonsense(kwargs):
    with pytest.raises(ValueError):  # noqa: PT011
        tools.open_loop_offsets(**kwargs)


def test_split_evenly():
    assert tools.split_evenly(10, 4) == [3, 3, 2, 2]
    assert sum(tools.split_evenly(10_000, 7)) == 10_000
    assert tools.rate_per_second(900, 3.0) == 300
    assert tools.rate_per_second(5, 0) == 0


# --- the result line -------------------------------------------------------------------------


def _line(**overrides):
    values = {
        "taps_per_s": 300.0,
        "ceiling_per_s": 1700.0,
        "minimal_per_s": 400.0,
        "p50_ms": 3.123,
        "p99_ms": 9.876,
        "sql_per_tap": 3,
    }
    return tools.result_line(**{**values, **overrides})


def test_result_line_is_one_json_object_with_the_contract_keys_first():
    line = _line(machine={"cores": 2})
    assert "\n" not in line
    record = json.loads(line)
    assert list(record)[: len(tools.RESULT_KEYS)] == list(tools.RESULT_KEYS)
    assert record["ratio"] == 0.75  # taps ÷ minimal
    assert record["p50_ms"] == 3.12
    assert record["sql_per_tap"] == 3
    assert record["machine"] == {"cores": 2}


def test_result_line_without_a_minimal_rate_has_no_ratio():
    assert json.loads(_line(minimal_per_s=0))["ratio"] is None


def test_result_line_extra_fields_cannot_override_the_contract():
    with pytest.raises(ValueError, match="ratio"):
        _line(ratio=1.0)


def test_targets():
    good = {"ratio": 0.6, "p99_ms": 24.9, "sql_per_tap": 4}
    assert all(target.met for target in tools.evaluate_targets(good))
    bad = {"ratio": 0.59, "p99_ms": 25.0, "sql_per_tap": 5}
    assert not any(target.met for target in tools.evaluate_targets(bad))
    missing = {"ratio": None, "p99_ms": None, "sql_per_tap": None}
    assert [t.detail for t in tools.evaluate_targets(missing)] == ["n/a"] * 3


# --- machine and database --------------------------------------------------------------------


def test_cpu_model():
    text = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n"
    assert tools.cpu_model(text) == "AMD EPYC 7B13"
    assert tools.cpu_model("") == "unknown"


def test_the_bench_database_is_never_the_one_of_database_url():
    assert tools.bench_database_url({}) == tools.DEFAULT_BENCH_URL
    ci = {"DATABASE_URL": "postgres://postgres@db.example:5433/sesame?sslmode=disable"}
    assert (
        tools.bench_database_url(ci)
        == "postgres://postgres@db.example:5433/sesame_bench?sslmode=disable"
    )
    assert tools.bench_database_url({"DATABASE_URL": "sqlite:///var/x.sqlite3"}) == (
        tools.DEFAULT_BENCH_URL
    )
    explicit = {"BENCH_DATABASE_URL": "postgres://u@h/my_bench", "DATABASE_URL": "postgres://h/x"}
    assert tools.bench_database_url(explicit) == "postgres://u@h/my_bench"


def test_only_a_postgres_database_named_bench_is_used():
    assert tools.is_bench_database("postgres://postgres@127.0.0.1:5432/sesame_bench")
    assert not tools.is_bench_database("postgres://postgres@127.0.0.1:5432/sesame")
    assert not tools.is_bench_database("sqlite:///bench.sqlite3")


def test_cpu_ticks_from_proc():
    stat = "cpu  100 5 50 800 20 3 2 1 0 0\ncpu0 50 2 25 400 10 1 1 0 0 0\n"
    assert tools.machine_ticks(stat) == (161, 981)
    line = "4242 (gunicorn: work er) S 4200 4242 4200 0 -1 4194560 1 0 0 0 37 12 0 0 20 0 1 0"
    process = tools.process_ticks(4242, line)
    assert (process.comm, process.ppid, process.ticks) == ("gunicorn: work er", 4200, 49)


def test_postgres_processes_of_other_databases_are_not_the_benchmarks():
    assert tools.counts_as_bench_postgres("postgres: 15/main: walwriter   ", "sesame_bench")
    mine = "postgres: 15/main: postgres sesame_bench 127.0.0.1(51234) idle"
    theirs = "postgres: 15/main: postgres test_sesame 127.0.0.1(51236) UPDATE"
    assert tools.counts_as_bench_postgres(mine, "sesame_bench")
    assert not tools.counts_as_bench_postgres(theirs, "sesame_bench")
    assert not tools.counts_as_bench_postgres("postgres: x: u other [local] idle", "sesame_bench")


# --- the generator's bookkeeping -------------------------------------------------------------


def test_each_card_gets_rising_counters_in_order():
    uids = ["BE000000000001", "BE000000000002", "BE000000000003"]
    cards = loadgen._CardSlice(uids, "https://sesame.example/c/")
    cards.top_up(7)
    seen = []
    for url in cards.fresh:
        tap = sun.verify_sun(
            url, meta_read_key=keys.meta_read_key(), file_read_key_for_uid=keys.card_file_read_key
        )
        seen.append((tap.uid.hex().upper(), tap.counter))
    assert seen == [(uids[i % 3], 1 + i // 3) for i in range(7)]
    cards.fresh.popleft()
    cards.top_up(7)  # tops up, never recomputes what is already waiting
    assert len(cards.fresh) == 7
    assert cards.counters == {uids[0]: 3, uids[1]: 3, uids[2]: 2}
    assert all(url.rsplit("=", 1)[-1] for url in cards.pool)


def test_the_request_body_is_what_the_taps_endpoint_accepts():
    body = loadgen._body("ab12-3-7", "https://x/c/?e=00&c=11", "2026-05-04T10:00:00+00:00")
    parsed = TapIn.model_validate(json.loads(body))
    assert parsed.tap_id == "ab12-3-7"
    assert parsed.reader_time.utcoffset() is not None


def test_the_reference_endpoints_are_not_mounted_by_default():
    # tests/settings.py keeps them off whatever the environment says, as production does.
    with pytest.raises(Resolver404):
        resolve("/api/v1/bench/ceiling")
    with pytest.raises(Resolver404):
        resolve("/api/v1/bench/minimal")
    resolve("/api/v1/taps")
