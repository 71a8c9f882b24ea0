"""Pay-per-entry from the wallet: at a facility whose rules name a product for it, an entrance
with no entitlement spends that product's price (the tariff engine, on the day) from the
holder's wallet, in decide's transaction; a short wallet is refused `insufficient_balance` and
nothing is spent; a refusal after spending (the pool full) spends nothing either."""

import pytest
from django.db import transaction
from django.utils import timezone

from payments import ledger, queries
from services.catalog import actions
from services.catalog.models import AccessPoint, FacilityOccupancy
from services.catalog.queries import forget_facility_rules
from tests.factories import (
    AccessPointFactory,
    EntitlementFactory,
    FacilityAccessRulesFactory,
    ResidentFactory,
    collection_office,
    priced_product,
)

pytestmark = pytest.mark.django_db


def credit_wallet(person, cents: int) -> None:
    with transaction.atomic():
        ledger.post(
            kind="adjustment",
            entries=[
                (ledger.suspense_account(), cents),
                (ledger.wallet_account(person.pk), -cents),
            ],
        )


@pytest.fixture
def gate():
    """A pool entrance charging a 3.50 € single entry to the wallet, 2 places."""
    collection_office("piscines")
    entry = priced_product(price_cents=350, regie_code="piscines")
    entrance = AccessPointFactory(kind=AccessPoint.Kind.ENTRANCE)
    FacilityAccessRulesFactory(
        facility=entrance.facility,
        max_occupancy=2,
        anti_passback_minutes=None,
        pay_per_entry_product=entry,
    )
    forget_facility_rules()
    return entrance


def enter(person, gate):
    with transaction.atomic():
        return actions.decide(holder_id=person.pk, access_point=gate, at=timezone.now())


def test_without_entitlement_the_wallet_pays_the_entry(gate):
    swimmer = ResidentFactory()
    credit_wallet(swimmer, 1000)
    decision = enter(swimmer, gate)
    assert decision.granted
    assert decision.charged_cents == 350
    assert decision.as_dict()["charged_cents"] == 350
    assert queries.wallet_balance(swimmer.pk) == 650
    assert FacilityOccupancy.objects.get().inside == 1


def test_a_short_wallet_is_refused_and_nothing_is_spent(gate):
    swimmer = ResidentFactory()
    credit_wallet(swimmer, 200)
    decision = enter(swimmer, gate)
    assert (decision.granted, decision.reason) == (False, "insufficient_balance")
    assert queries.wallet_balance(swimmer.pk) == 200
    assert not FacilityOccupancy.objects.filter(inside__gt=0).exists()


def test_an_entitlement_comes_before_the_wallet(gate):
    swimmer = ResidentFactory()
    credit_wallet(swimmer, 1000)
    EntitlementFactory(holder=swimmer)
    decision = enter(swimmer, gate)
    assert decision.granted
    assert decision.charged_cents == 0
    assert queries.wallet_balance(swimmer.pk) == 1000


def test_a_full_pool_spends_nothing(gate):
    FacilityOccupancy.objects.create(facility=gate.facility, day=timezone.localdate(), inside=2)
    swimmer = ResidentFactory()
    credit_wallet(swimmer, 1000)
    decision = enter(swimmer, gate)
    assert decision.reason == "capacity_reached"
    assert queries.wallet_balance(swimmer.pk) == 1000


def test_without_the_rule_no_wallet_is_touched():
    entrance = AccessPointFactory(kind=AccessPoint.Kind.ENTRANCE)
    swimmer = ResidentFactory()
    credit_wallet(swimmer, 1000)
    assert enter(swimmer, entrance).reason == "no_entitlement"
    assert queries.wallet_balance(swimmer.pk) == 1000
