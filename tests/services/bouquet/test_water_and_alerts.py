"""Water-meter readings checked against the previous one; téléalerte sign-ups."""

import pytest

from services.alerts import procedures as alerts
from services.alerts.models import AlertSubscription
from services.procedures.actions import handling
from services.procedures.errors import FieldErrors
from services.water import procedures as water
from services.water.models import MeterReading
from tests.factories import ResidentFactory, staff_user

from .factories import accept, submit

pytestmark = pytest.mark.django_db


def reading(index, day="2026-01-10", meter="ab123456"):
    return {"meter_number": meter, "index": index, "read_on": day}


def test_a_reading_is_recorded_and_the_next_cannot_go_down():
    resident = ResidentFactory()
    accept(submit(water.KEY, resident, reading(120)))
    assert MeterReading.objects.get().meter_number == "AB123456"
    with pytest.raises(FieldErrors) as refused:
        submit(water.KEY, resident, reading(100, day="2026-03-01"))
    assert list(refused.value.errors) == ["index"]
    assert "120" in refused.value.errors["index"]


def test_another_households_meter_is_refused():
    accept(submit(water.KEY, ResidentFactory(), reading(50)))
    with pytest.raises(FieldErrors) as refused:
        submit(water.KEY, ResidentFactory(), reading(60, day="2026-02-01"))
    assert list(refused.value.errors) == ["meter_number"]


def test_a_meter_number_that_is_not_one_is_refused():
    with pytest.raises(FieldErrors) as refused:
        submit(water.KEY, ResidentFactory(), reading(1, meter="12"))
    assert list(refused.value.errors) == ["meter_number"]


def test_an_alert_sign_up_needs_real_phone_numbers_and_consent():
    resident = ResidentFactory()
    with pytest.raises(FieldErrors) as refused:
        submit(alerts.KEY, resident, {"phones": [{"phone": "06 12"}], "consent": "yes"})
    assert list(refused.value.errors) == ["phones"]
    with pytest.raises(FieldErrors) as refused:
        submit(alerts.KEY, resident, {"phones": [{"phone": "0612345678"}], "consent": "no"})
    assert list(refused.value.errors) == ["consent"]


def test_an_accepted_sign_up_replaces_the_previous_one():
    resident = ResidentFactory()
    clerk = staff_user("clerk")
    first = accept(
        submit(alerts.KEY, resident, {"phones": [{"phone": "0612345678"}], "consent": True}),
        clerk,
    )
    handling.transition(actor=clerk, file=first, key="complete")
    first_subscription = AlertSubscription.objects.get()
    assert first_subscription.phones == ["+33612345678"]
    assert first_subscription.address["line1"] == "1 place François Mitterrand"
    accept(
        submit(
            alerts.KEY,
            resident,
            {"phones": [{"phone": "0612345678"}, {"phone": "05 65 00 00 00"}], "consent": True},
        ),
        clerk,
    )
    current = AlertSubscription.objects.get(ended_at__isnull=True)
    assert current.phones == ["+33612345678", "+33565000000"]
    first_subscription.refresh_from_db()
    assert first_subscription.ended_at is not None
