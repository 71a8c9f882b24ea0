"""The Stripe webhook: `POST /payments/stripe/webhook/`.

1. Verified first: the `Stripe-Signature` header against `STRIPE_WEBHOOK_SECRET` (HMAC-SHA256
   of `"{t}.{body}"`, five minutes of tolerance), by the SDK's `construct_event`. A missing or
   wrong signature is a 400 and nothing is read further. Without a secret the endpoint is a 404.
2. Never trusted for amounts or states: the object the event names is looked up again through
   the API, and what Sésame records follows the object as it is *now*. A `payment_failed`
   arriving after the payment succeeded finds a succeeded intent and records nothing new; an
   event claiming success for an intent that is not paid records nothing.
3. Each event id is acted upon once: `payments.actions.provider_events` writes a `ProviderEvent` in
   the transaction of its effect and ignores an event id it has seen; the records themselves are
   idempotent too (a payment succeeds once, a refund reference is recorded once — also the echo of a
   refund Sésame asked for, even one arriving before its answer was stored), so two different events
   about the same fact credit once.

Answers: 200 once handled, also for an event about a payment Sésame does not know (logged, ids
only) or one it refuses (an amount that does not match: logged as an error); 503 when Stripe
cannot be reached for the lookup, so that Stripe delivers the event again later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import stripe
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from identity.errors import DomainError, NotFound
from payments.actions.provider_events import (
    already_processed,
    record_dispute,
    record_dispute_closed,
    record_payment_cancelled,
    record_payment_failed,
    record_payment_succeeded,
    record_provider_payout,
)
from payments.actions.refunds import record_provider_refund, record_refund_failed
from payments.providers.base import ProviderError
from payments.providers.stripe import CODE, client, field, object_id

logger = logging.getLogger(__name__)


class Unavailable(Exception):
    """Stripe could not be reached to look the object up: answer 503, Stripe retries."""


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise Http404
    try:
        api = client()
    except ProviderError:
        logger.error("stripe webhook received but STRIPE_SECRET_KEY is not set")
        return HttpResponse(status=503)
    try:
        event = api.construct_event(request.body, request.headers.get("Stripe-Signature"), secret)
    except (stripe.SignatureVerificationError, ValueError):
        logger.warning("stripe webhook refused: bad or missing signature")
        return HttpResponse(status=400)
    try:
        handle_event(event, api)
    except Unavailable:
        return HttpResponse(status=503)
    return HttpResponse(status=200)


def handle_event(event: stripe.Event, api: stripe.StripeClient) -> None:
    """Act on one verified event (also usable to replay an event fetched from the API)."""
    if already_processed(CODE, event.id):
        logger.info("stripe event %s (%s) already processed", event.id, event.type)
        return
    handler = HANDLERS.get(event.type)
    if handler is None:
        logger.info("stripe event %s (%s) ignored", event.id, event.type)
        return
    try:
        handler(event, api)
    except NotFound:
        logger.warning(
            "stripe event %s (%s) about %s: no such payment here, nothing recorded",
            event.id,
            event.type,
            object_id(field(event.data, "object")),
        )
    except DomainError as error:
        logger.error(
            "stripe event %s (%s) about %s refused: %s",
            event.id,
            event.type,
            object_id(field(event.data, "object")),
            error.code,
        )


def _required(value) -> str:
    """The id of the object an event names; an event without one names nothing of ours."""
    found = object_id(value)
    if not found:
        raise NotFound("the event names no object")
    return found


def _lookup(what: str, fetch: Callable):
    try:
        return fetch()
    except stripe.InvalidRequestError as error:
        # 404, or an id Stripe refuses: asking again will not change the answer.
        raise NotFound(f"no such {what}") from error
    except stripe.StripeError as error:
        logger.warning("stripe lookup of %s failed: %s", what, type(error).__name__)
        raise Unavailable from error


# --- PaymentIntents (online and at readers) ---------------------------------------------------


def settle_intent(api: stripe.StripeClient, intent_id: str, event_id: str) -> None:
    """Record what the PaymentIntent says now: succeeded, failed or canceled; nothing while it
    is still in progress (`processing`, `requires_action`, waiting for a card)."""
    intent = _lookup("payment intent", lambda: api.v1.payment_intents.retrieve(intent_id))
    status = intent.status
    if status == "succeeded":
        received = field(intent, "amount_received")
        record_payment_succeeded(
            provider=CODE,
            provider_reference=intent.id,
            amount_cents=received if received else intent.amount,
            currency=intent.currency.upper(),
            event_id=event_id,
        )
    elif status == "canceled":
        record_payment_cancelled(provider=CODE, provider_reference=intent.id, event_id=event_id)
    elif status == "requires_payment_method" and field(intent, "last_payment_error"):
        error = field(intent, "last_payment_error")
        record_payment_failed(
            provider=CODE,
            provider_reference=intent.id,
            reason=str(field(error, "decline_code") or field(error, "code") or "failed"),
            event_id=event_id,
        )
    else:
        logger.info("stripe intent %s is %s: nothing to record yet", intent.id, status)


def on_payment_intent(event: stripe.Event, api: stripe.StripeClient) -> None:
    settle_intent(api, _required(event.data.object), event.id)


def on_reader_action(event: stripe.Event, api: stripe.StripeClient) -> None:
    action = field(event.data.object, "action")
    if field(action, "type") != "process_payment_intent":
        logger.info("stripe reader event %s: action %s ignored", event.id, field(action, "type"))
        return
    intent_id = object_id(field(field(action, "process_payment_intent"), "payment_intent"))
    if intent_id:
        settle_intent(api, intent_id, event.id)


# --- Refunds (also those made from Stripe's dashboard) ----------------------------------------


def _record_refund(api: stripe.StripeClient, refund, event_id: str) -> None:
    intent_id = object_id(field(refund, "payment_intent"))
    if not intent_id:
        charge = _lookup(
            "charge", lambda: api.v1.charges.retrieve(_required(field(refund, "charge")))
        )
        intent_id = object_id(field(charge, "payment_intent"))
    if refund.status == "succeeded":
        record_provider_refund(
            provider=CODE,
            provider_reference=intent_id,
            refund_reference=refund.id,
            amount_cents=refund.amount,
            event_id=event_id,
        )
    elif refund.status in ("failed", "canceled"):
        record_refund_failed(
            provider=CODE,
            refund_reference=refund.id,
            reason=str(field(refund, "failure_reason") or refund.status),
            event_id=event_id,
        )


def on_charge_refunded(event: stripe.Event, api: stripe.StripeClient) -> None:
    """Every refund of the charge, as the API lists it now. Each is recorded under its own
    derived event id (the event may carry several), and a refund reference is recorded once."""
    charge = _lookup("charge", lambda: api.v1.charges.retrieve(_required(event.data.object)))
    intent_id = object_id(field(charge, "payment_intent"))
    if not intent_id:
        raise NotFound("charge without payment intent")
    refunds = _lookup(
        "refunds", lambda: api.v1.refunds.list({"payment_intent": intent_id, "limit": 100})
    )
    for refund in refunds.auto_paging_iter():
        try:
            _record_refund(api, refund, f"{event.id}:{refund.id}")
        except DomainError as error:  # one refused refund does not hide the others
            logger.error("stripe refund %s refused: %s", refund.id, error.code)


def on_refund(event: stripe.Event, api: stripe.StripeClient) -> None:
    refund = _lookup("refund", lambda: api.v1.refunds.retrieve(_required(event.data.object)))
    _record_refund(api, refund, event.id)


# --- Disputes --------------------------------------------------------------------------------


# How a closed dispute ended, by the dispute's status as the API gives it now. An inquiry
# closed without a chargeback (`warning_closed`) took nothing for good: like a win, the amount
# recorded when it opened goes back to clearing.
DISPUTE_WON = frozenset({"won", "warning_closed"})
DISPUTE_LOST = frozenset({"lost"})


def _dispute_and_intent(event: stripe.Event, api: stripe.StripeClient):
    dispute = _lookup("dispute", lambda: api.v1.disputes.retrieve(_required(event.data.object)))
    intent_id = object_id(field(dispute, "payment_intent"))
    if not intent_id:
        charge = _lookup(
            "charge", lambda: api.v1.charges.retrieve(_required(field(dispute, "charge")))
        )
        intent_id = object_id(field(charge, "payment_intent"))
    if not intent_id:
        raise NotFound("dispute without payment intent")
    return dispute, intent_id


def on_dispute(event: stripe.Event, api: stripe.StripeClient) -> None:
    dispute, intent_id = _dispute_and_intent(event, api)
    record_dispute(
        provider=CODE,
        provider_reference=intent_id,
        amount_cents=dispute.amount,
        event_id=event.id,
    )


def on_dispute_closed(event: stripe.Event, api: stripe.StripeClient) -> None:
    """Won (or an inquiry closed): the disputed money comes back to clearing; lost: it stays
    lost. Judged on the dispute's status as the API gives it now, never the payload's."""
    dispute, intent_id = _dispute_and_intent(event, api)
    status = field(dispute, "status")
    if status not in DISPUTE_WON | DISPUTE_LOST:
        logger.info("stripe dispute %s is %s: not closed, nothing recorded", dispute.id, status)
        return
    record_dispute_closed(
        provider=CODE,
        provider_reference=intent_id,
        amount_cents=dispute.amount,
        won=status in DISPUTE_WON,
        event_id=event.id,
        dispute_reference=dispute.id,
    )


# --- Payouts ---------------------------------------------------------------------------------


def on_payout_paid(event: stripe.Event, api: stripe.StripeClient) -> None:
    """A payout arrived at the bank: record it with the payments it settles (the PaymentIntents
    of its balance transactions' charges) and the fees Stripe kept, for reconciliation."""
    payout = _lookup("payout", lambda: api.v1.payouts.retrieve(_required(event.data.object)))
    if payout.status != "paid":
        logger.info("stripe payout %s is %s: not recorded", payout.id, payout.status)
        return
    transactions = _lookup(
        "payout transactions",
        lambda: api.v1.balance_transactions.list(
            {"payout": payout.id, "limit": 100, "expand": ["data.source"]}
        ),
    )
    references: list[str] = []
    fees = 0
    for txn in transactions.auto_paging_iter():
        fees += field(txn, "fee", 0) or 0
        source = field(txn, "source")
        if field(txn, "type") in ("charge", "payment") and source is not None:
            intent_id = object_id(field(source, "payment_intent"))
            if intent_id:
                references.append(intent_id)
    arrival = datetime.fromtimestamp(payout.arrival_date, tz=UTC)
    record_provider_payout(
        provider=CODE,
        payout_reference=payout.id,
        amount_cents=payout.amount,
        arrival_date=timezone.localdate(arrival),
        fee_cents=fees,
        payment_references=tuple(references),
        currency=payout.currency.upper(),
        event_id=event.id,
    )


HANDLERS: dict[str, Callable[[stripe.Event, stripe.StripeClient], None]] = {
    "payment_intent.succeeded": on_payment_intent,
    "payment_intent.payment_failed": on_payment_intent,
    "payment_intent.canceled": on_payment_intent,
    "terminal.reader.action_succeeded": on_reader_action,
    "terminal.reader.action_failed": on_reader_action,
    "charge.refunded": on_charge_refunded,
    "refund.created": on_refund,
    "refund.updated": on_refund,
    "refund.failed": on_refund,
    "charge.refund.updated": on_refund,
    "charge.dispute.created": on_dispute,
    "charge.dispute.closed": on_dispute_closed,
    "payout.paid": on_payout_paid,
}

# The events to subscribe the endpoint to in Stripe's dashboard (docs/payments-stripe.md).
SUBSCRIBED_EVENTS = sorted(HANDLERS)
