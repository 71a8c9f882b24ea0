"""Stripe delivers an event more than once, sometimes at the same moment, to several application
processes: on PostgreSQL (real row locks), concurrent deliveries credit once."""

import threading

import pytest
from django.db import connection
from django.test import Client

from payments.models import LedgerTransaction, Payment, ProviderEvent

from .conftest import event_payload, pay_on_stripe, post_event

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_deliveries_credit_once(make_order, start, stripe_api, fulfilled):
    order = make_order()
    payment, _ = start(order)
    intent = pay_on_stripe(stripe_api, payment.provider_reference).to_dict()
    same = event_payload("payment_intent.succeeded", intent, event_id="evt_same")
    other = event_payload("payment_intent.succeeded", intent, event_id="evt_other")
    bodies = [same, same, same, other, other]
    barrier = threading.Barrier(len(bodies))
    answers: list[int] = []

    def deliver(body: str) -> None:
        try:
            barrier.wait(timeout=10)
            answers.append(post_event(Client(), body).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert answers == [200] * len(bodies)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert LedgerTransaction.objects.filter(payment=payment, kind="payment").count() == 1
    assert ProviderEvent.objects.filter(event_id="evt_same").count() == 1
    assert len(fulfilled) == 1
