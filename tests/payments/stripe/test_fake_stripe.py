"""The fake itself: the real SDK against localstripe and the front server. If these fail, the
other Stripe tests prove nothing."""

import pytest
import stripe


def test_the_sdk_talks_to_localstripe_through_the_front(stripe_api, fake_stripe):
    intent = stripe_api.v1.payment_intents.create(
        {"amount": 1250, "currency": "eur", "payment_method_types": ["card"]},
        {"idempotency_key": "smoke-1"},
    )
    assert intent.id.startswith("pi_")
    assert intent.status == "requires_payment_method"
    assert fake_stripe.seen("POST", "/v1/payment_intents")[-1].idempotency_key == "smoke-1"

    again = stripe_api.v1.payment_intents.create(
        {"amount": 1250, "currency": "eur", "payment_method_types": ["card"]},
        {"idempotency_key": "smoke-1"},
    )
    assert again.id == intent.id  # the same key answers the first answer, as on Stripe

    stripe_api.v1.payment_intents.update(intent.id, {"payment_method": "pm_card_visa"})
    paid = stripe_api.v1.payment_intents.confirm(intent.id)
    assert paid.status == "succeeded"


def test_unknown_objects_are_404_errors(stripe_api):
    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe_api.v1.payment_intents.retrieve("pi_doesnotexist")
    assert error.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError):
        stripe_api.v1.terminal.readers.retrieve("tmr_nope")


def test_a_reader_collects_a_card_present_intent(stripe_api, fake_stripe):
    reader = fake_stripe.add_reader()
    intent = stripe_api.v1.payment_intents.create(
        {"amount": 500, "currency": "eur", "payment_method_types": ["card_present"]}
    )
    answer = stripe_api.v1.terminal.readers.process_payment_intent(
        reader, {"payment_intent": intent.id}
    )
    assert answer.action.status == "in_progress"
    presented = stripe_api.v1.test_helpers.terminal.readers.present_payment_method(reader)
    assert presented.action.status == "succeeded"
    assert stripe_api.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_disputes_and_payout_transactions(stripe_api, fake_stripe):
    intent = stripe_api.v1.payment_intents.create(
        {"amount": 900, "currency": "eur", "payment_method": "pm_card_visa", "confirm": True}
    )
    assert intent.status == "succeeded"
    dispute = fake_stripe.open_dispute(payment_intent=intent.id, amount=900)
    assert stripe_api.v1.disputes.retrieve(dispute["id"]).payment_intent == intent.id

    charge = stripe_api.v1.charges.retrieve(intent.latest_charge.id)
    payout = stripe_api.v1.payouts.create({"amount": 900, "currency": "eur", "status": "paid"})
    fake_stripe.settle_payout(payout.id, [charge.balance_transaction])
    listed = stripe_api.v1.balance_transactions.list(
        {"payout": payout.id, "expand": ["data.source"]}
    )
    assert [t.source.payment_intent for t in listed.data] == [intent.id]


def test_a_stopped_localstripe_is_started_again_for_the_next_test(fake_stripe, stripe_api):
    """The suite does not fail for the rest of the run if localstripe stops midway."""
    fake_stripe.backend.process.kill()
    fake_stripe.backend.process.wait(timeout=5)
    with pytest.warns(UserWarning, match="localstripe had stopped"):
        fake_stripe.backend.ensure_running()

    intent = stripe_api.v1.payment_intents.create(
        {"amount": 100, "currency": "eur", "payment_method_types": ["card"]}
    )
    assert intent.id.startswith("pi_")
