"""Stripe delivers an event more than once, sometimes at the same moment, to several application
processes: on PostgreSQL (real row locks), concurrent deliveries credit once. As in pretix, the
first test shows the race does happen with the row locks switched off, every delivery lined up
once it has read the payment; the second, lined up the same way, that the lock prevents it."""

import pytest
from django.test import Client

from payments.actions import provider_events
from payments.models import LedgerTransaction, Payment, ProviderEvent
from tests.concurrency import line_up, run_at_once

from .conftest import event_payload, pay_on_stripe, post_event

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def deliver_at_once(make_order, start, stripe_api) -> tuple[Payment, list[int]]:
    """The same success sent three times and another event about it twice, all at once (each
    delivery in its own thread and connection): the payment and the webhook's answers."""
    order = make_order()
    payment, _ = start(order)
    intent = pay_on_stripe(stripe_api, payment.provider_reference).to_dict()
    same = event_payload("payment_intent.succeeded", intent, event_id="evt_same")
    other = event_payload("payment_intent.succeeded", intent, event_id="evt_other")
    bodies = [same, same, same, other, other]
    outcome = run_at_once(
        *(lambda body=body: post_event(Client(), body).status_code for body in bodies)
    )
    assert outcome.errors == []
    payment.refresh_from_db()
    return payment, outcome.answers


def test_without_the_lock_concurrent_deliveries_credit_twice(
    make_order, start, stripe_api, fulfilled, monkeypatch
):
    # Every delivery has read the payment ("pending") before any goes on.
    line_up(monkeypatch, provider_events, "locked_payment", lock=False, parties=5)
    payment, answers = deliver_at_once(make_order, start, stripe_api)
    assert answers == [200] * 5
    # The race: each event id credits the same payment.
    assert LedgerTransaction.objects.filter(payment=payment, kind="payment").count() == 2


def test_concurrent_deliveries_credit_once(make_order, start, stripe_api, fulfilled, monkeypatch):
    line_up(monkeypatch, provider_events, "locked_payment", lock=True, parties=5)
    payment, answers = deliver_at_once(make_order, start, stripe_api)
    assert answers == [200] * 5
    assert payment.status == Payment.Status.SUCCEEDED
    assert LedgerTransaction.objects.filter(payment=payment, kind="payment").count() == 1
    assert ProviderEvent.objects.filter(event_id="evt_same").count() == 1
    assert len(fulfilled) == 1
