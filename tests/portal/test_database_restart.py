"""PostgreSQL restarted in the middle of a load of taps and payments, under a real gunicorn:
requests caught by the outage fail clearly (503, JSON under /api/, nothing half-written), the
same application process serves again once PostgreSQL is back (CONN_HEALTH_CHECKS with
persistent connections), and the clients' retries with the same ids leave every tap and every
payment recorded once.

Restarting a cluster stops everyone's queries on it: the test runs only where told which
cluster it may restart, `SESAME_PG_RESTART_CLUSTER="15 main"` (CI, as root), or a cluster of
its own (`pg_createcluster 15 faults -p 5499 --start -- --auth=trust`, with DATABASE_URL on
port 5499)."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from card.models import Tap
from payments.actions.checkout import start_payment
from payments.actions.wallets import create_topup_order
from payments.models import Payment
from payments.queries import ledger_discrepancies, wallet_balance
from services.catalog.models import Entitlement
from tests.factories import CardFactory, EntitlementFactory, reader_with_token, sun_url
from tests.payments.factories import wallet_regie

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = os.environ.get("SESAME_PG_RESTART_CLUSTER", "")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CLUSTER, reason="restarts PostgreSQL: set SESAME_PG_RESTART_CLUSTER (CI as root)"
    ),
]

CARDS = 4
TAPS_PER_CARD = 40
PAYMENTS = 12


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def application(tmp_path):
    """gunicorn on the test database, persistent connections on, two workers."""
    db = settings.DATABASES["default"]
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DATABASE_CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(  # noqa: S603 - gunicorn from our venv, arguments written here
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "--workers", "2", "--threads", "4"]
        + ["--bind", f"127.0.0.1:{port}", "--graceful-timeout", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "gunicorn.log").open("wb"),
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(base + "/", timeout=10)
            break
        except requests.RequestException:
            time.sleep(0.1)
    yield base, server
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=20)
    print((tmp_path / "gunicorn.log").read_text()[-8000:])  # shown when the test fails


def _retrying(send, log: list) -> requests.Response:
    """A client that retries what the outage refused, with the same ids, as readers do."""
    for _ in range(300):
        try:
            response = send()
        except requests.ConnectionError:
            log.append("connection")
            time.sleep(0.1)
            continue
        log.append(response.status_code)
        if response.status_code != 503:
            return response
        time.sleep(0.1)
    raise AssertionError("never served again")


def test_postgresql_restarted_under_taps_and_payments(application):
    base, server = application
    reader, token = reader_with_token()
    cards = [CardFactory() for _ in range(CARDS)]
    books = [EntitlementFactory(holder=card.holder, entries=100) for card in cards]
    wallet_regie()
    payments = []
    for n in range(PAYMENTS):
        holder = cards[n % CARDS].holder
        order = create_topup_order(actor=holder.user, person=holder, amount_cents=1000 + n)
        payment, _start = start_payment(order=order, provider="demo", return_url="/")
        session = Client()
        session.force_login(holder.user)
        payments.append((payment, session.cookies[settings.SESSION_COOKIE_NAME].value))
    log: list = []
    failures: list = []

    def tap_card(card) -> None:
        try:
            for counter in range(1, TAPS_PER_CARD + 1):
                body = {
                    "tap_id": f"{card.number}-{counter}",
                    "credential": sun_url(card, counter),
                    "reader_time": timezone.now().isoformat(),
                }
                answer = _retrying(
                    lambda body=body: requests.post(
                        base + "/api/v1/taps",
                        json={**body, "reader_time": timezone.now().isoformat()},
                        headers={"Authorization": f"Bearer {token}"},
                        timeout=10,
                    ),
                    log,
                )
                assert answer.status_code == 200, answer.text
                assert answer.json()["granted"], answer.json()
                time.sleep(0.02)
        except Exception as error:  # noqa: BLE001 - reported by the test below
            failures.append(error)

    def pay_all() -> None:
        try:
            for payment, session_id in payments:
                csrf = secrets.token_hex(16)
                answer = _retrying(
                    lambda payment=payment, session_id=session_id, csrf=csrf: requests.post(
                        f"{base}/paiement/demo/{payment.public_id}/",
                        data={"outcome": "pay"},
                        cookies={settings.SESSION_COOKIE_NAME: session_id, "csrftoken": csrf},
                        headers={"X-CSRFToken": csrf},
                        allow_redirects=False,
                        timeout=10,
                    ),
                    log,
                )
                assert answer.status_code == 302, (answer.status_code, answer.text[-3000:])
                time.sleep(0.1)
        except Exception as error:  # noqa: BLE001
            failures.append(error)

    clients = [threading.Thread(target=tap_card, args=(card,)) for card in cards]
    clients.append(threading.Thread(target=pay_all))
    for client in clients:
        client.start()
    time.sleep(0.5)
    restarted = subprocess.run(  # noqa: S603
        ["/usr/bin/pg_ctlcluster", "--skip-systemctl-redirect", *CLUSTER.split(), "restart"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert restarted.returncode == 0, restarted.stderr
    for client in clients:
        client.join(timeout=120)
    connection.close()  # the test's own connection died with the restart

    assert failures == []
    assert 503 in log  # requests caught by the outage failed clearly...
    assert 500 not in log  # ...never as an error of the application
    assert server.poll() is None  # the same gunicorn served before and after
    assert Tap.objects.count() == CARDS * TAPS_PER_CARD  # each tap once
    for book in books:
        assert Entitlement.objects.get(pk=book.pk).entries_left == 100 - TAPS_PER_CARD
    for payment, _session in payments:
        assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED
    for card in cards:
        expected = sum(1000 + n for n in range(PAYMENTS) if cards[n % CARDS] == card)
        assert wallet_balance(card.holder.pk) == expected  # each payment credited once
    assert ledger_discrepancies() == []
