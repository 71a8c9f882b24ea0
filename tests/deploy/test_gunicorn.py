"""gunicorn as deployed (deploy/gunicorn.conf.py, DEBUG off, several workers): the metrics every
worker counts are added up by /metrics, whichever worker answers the scrape."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "a-token-for-this-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, **headers) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback only
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def gunicorn(tmp_path):
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left by a previous run")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))},
        "DEBUG": "0",
        "SECRET_KEY": "gunicorn-test-secret-key-not-the-demo-one",
        "SESAME_CARD_MASTER_KEY": "00112233445566778899aabbccddeeff",
        "SESAME_VAULT_MASTER_KEY": "7e57" * 16,
        # An empty database: the probes and the counters need none (the scrape says it is down).
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "SESAME_VAR_DIR": str(tmp_path / "var"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SESAME_BIND": f"127.0.0.1:{port}",
        "SESAME_WEB_WORKERS": "2",
        "SESAME_METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if get(f"{base}/healthz")[0] == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail(f"gunicorn did not start: {server.communicate()[0].decode()[-2000:]}")
    yield base, metrics_dir
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def healthz_count(base: str) -> float:
    status, body = get(f"{base}/metrics", Authorization=f"Bearer {TOKEN}")
    assert status == 200
    (value,) = re.findall(
        r'^sesame_http_requests_total\{method="GET",status="200",view="healthz"\} (\S+)$',
        body.decode(),
        re.M,
    )
    return float(value)


def test_the_workers_counts_are_added_up(gunicorn):
    base, metrics_dir = gunicorn
    assert not (metrics_dir / "counter_999999.db").exists()  # a previous run's values: gone
    before = healthz_count(base)
    sent = 0
    for _ in range(10):  # until both workers answered some (the kernel picks who accepts)
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda _: get(f"{base}/healthz")[0], range(40)))
        assert statuses == [200] * 40
        sent += 40
        writers = {re.search(r"_(\d+)\.db$", p.name).group(1) for p in metrics_dir.glob("*.db")}
        if len(writers) >= 2:
            break
    assert len(writers) >= 2  # both workers answered, each wrote its own values
    assert healthz_count(base) == before + sent
    status, body = get(f"{base}/metrics", Authorization=f"Bearer {TOKEN}")
    assert "sesame_metrics_database_up 0.0" in body.decode()  # this database has no tables
