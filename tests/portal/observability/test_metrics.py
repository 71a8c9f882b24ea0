"""/metrics: Prometheus' text format for the bearer of the metrics token only; requests, taps
by reason, errors counted by the processes, payments by state and the task queue read from the
database. Under gunicorn, what every worker counted is added up (tests/deploy)."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client.parser import text_string_to_metric_families

from card.tasks import expire_cards
from payments.actions.checkout import start_payment
from payments.models import Payment
from tests.factories import (
    CardFactory,
    EntitlementFactory,
    ResidentFactory,
    post_tap,
    reader_with_token,
    sun_url,
)
from tests.payments.factories import Recorder, order_for, pay

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-the-tests"


@pytest.fixture(autouse=True)
def _token(settings):
    settings.SESAME_METRICS_TOKEN = TOKEN


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Token {TOKEN}", "Bearer "])
def test_only_the_bearer_of_the_token_reads_them(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 404
    assert b"sesame_" not in response.content


def test_without_a_token_configured_nobody_reads_them(client, settings):
    settings.SESAME_METRICS_TOKEN = ""
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_requests_are_counted_by_route_and_status(client):
    before = scrape(client)
    for _ in range(3):
        client.get("/healthz")
    client.get("/no-such-page/")
    after = scrape(client)
    labels = {"method": "GET", "view": "healthz", "status": "200"}
    assert (
        value(after, "sesame_http_requests_total", **labels)
        - value(before, "sesame_http_requests_total", **labels)
        == 3
    )
    unmatched = {"method": "GET", "view": "unmatched", "status": "404"}
    assert (
        value(after, "sesame_http_requests_total", **unmatched)
        - value(before, "sesame_http_requests_total", **unmatched)
        == 1
    )
    assert (
        value(after, "sesame_http_request_duration_seconds_count", method="GET", view="healthz")
        >= 3
    )


def test_taps_are_counted_by_result_and_reason_once_committed(
    client, django_capture_on_commit_callbacks
):
    _reader, token = reader_with_token()
    card = CardFactory()
    EntitlementFactory(holder=card.holder)
    before = scrape(client)
    with django_capture_on_commit_callbacks(execute=True):
        post_tap(Client(), token, credential=sun_url(card, 1))
        post_tap(Client(), token, credential=sun_url(card, 1))  # a replay
        post_tap(Client(), token, credential="not a card")
    after = scrape(client)

    def more(**labels):
        return value(after, "sesame_taps_total", **labels) - value(
            before, "sesame_taps_total", **labels
        )

    assert more(granted="true", reason="granted") == 1
    assert more(granted="false", reason="replay") == 1
    assert more(granted="false", reason="invalid_credential") == 1


def test_an_error_is_counted(client, settings):
    client.raise_request_exception = False
    settings.ROOT_URLCONF = "tests.portal.observability.failing_urls"
    before = value(scrape(client), "sesame_errors_total", kind="request")
    assert client.get("/fails/").status_code == 500
    assert value(scrape(client), "sesame_errors_total", kind="request") == before + 1


def test_payments_by_state_and_the_queue_come_from_the_database(client, settings):
    Recorder()  # what the orders sell is delivered by a test handler
    resident = ResidentFactory()
    pay(order_for(resident, 1500))
    start_payment(order=order_for(resident, 900), provider="demo", return_url="/")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    waiting = expire_cards.enqueue()
    DBTaskResult.objects.filter(id=waiting.id).update(
        enqueued_at=timezone.now() - timedelta(seconds=90)
    )
    samples = scrape(client)
    assert value(samples, "sesame_payments", state="succeeded") == 1
    for state in Payment.Status.values:
        expected = Payment.objects.filter(status=state).count()
        assert value(samples, "sesame_payments", state=state) == expected
    assert sum(value(samples, "sesame_payments", state=s) for s in Payment.Status.values) == 2
    assert value(samples, "sesame_tasks", status="READY") == 1
    assert 90 <= value(samples, "sesame_task_queue_lag_seconds") < 120
    assert value(samples, "sesame_metrics_database_up") == 1


def test_no_personal_data_in_them(client):
    card = CardFactory()
    reader, token = reader_with_token()
    EntitlementFactory(holder=card.holder)
    post_tap(Client(), token, credential=sun_url(card, 1))
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).content.decode()
    for personal in (card.holder.first_name, card.holder.last_name, card.uid, card.number):
        assert not re.search(rf"\b{re.escape(personal)}\b", text)
