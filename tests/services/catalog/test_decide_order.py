"""decide's documented order: a pass, then a booking for the day, then prepaid entries (then
the wallet, tests/services/catalog/test_pay_per_entry.py). Expired or revoked entitlements and
closed facilities are refused clearly, with nothing consumed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from services.catalog import actions
from services.catalog.models import AccessPoint, Entitlement
from tests.factories import (
    AccessPointFactory,
    EntitlementFactory,
    FacilityClosureFactory,
    PassFactory,
    ResidentFactory,
)

pytestmark = pytest.mark.django_db


def booking_for(holder, facility, day):
    return EntitlementFactory(
        holder=holder,
        kind=Entitlement.Kind.BOOKING,
        facility=facility,
        label="Cours de natation",
        valid_from=day,
        valid_until=day,
        entries_total=None,
        entries_left=None,
    )


def test_a_pass_then_a_booking_then_entries():
    entrance = AccessPointFactory(kind=AccessPoint.Kind.ENTRANCE)
    holder = ResidentFactory()
    book = EntitlementFactory(holder=holder)
    booking = booking_for(holder, entrance.facility, timezone.localdate())
    pool_pass = PassFactory(holder=holder)
    now = timezone.now()
    used = []
    for revoke in [pool_pass, booking, book]:
        decision = actions.decide(holder_id=holder.pk, access_point=entrance, at=now)
        used.append(decision.entitlement_id)
        Entitlement.objects.filter(pk=revoke.pk).update(revoked_at=now)
    assert used == [pool_pass.public_id, booking.public_id, book.public_id]
    book.refresh_from_db()
    assert book.entries_left == 9  # only the book is consumed


def test_an_expired_pass_is_refused_and_nothing_is_consumed():
    entrance = AccessPointFactory(kind=AccessPoint.Kind.ENTRANCE)
    today = timezone.localdate()
    expired = PassFactory(
        valid_from=today - timedelta(days=400), valid_until=today - timedelta(days=1)
    )
    decision = actions.decide(holder_id=expired.holder_id, access_point=entrance, at=timezone.now())
    assert (decision.granted, decision.reason) == (False, "no_entitlement")


def test_a_closed_facility_consumes_nothing():
    entrance = AccessPointFactory(kind=AccessPoint.Kind.ENTRANCE)
    FacilityClosureFactory(
        facility=entrance.facility, starts_at=timezone.now() - timedelta(hours=1)
    )
    book = EntitlementFactory()
    decision = actions.decide(holder_id=book.holder_id, access_point=entrance, at=timezone.now())
    assert decision.reason == "closed"
    book.refresh_from_db()
    assert book.entries_left == 10


def test_a_booking_costs_one_statement_like_a_pass():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    entrance = AccessPointFactory(kind=AccessPoint.Kind.ENTRANCE)
    holder = ResidentFactory()
    booking_for(holder, entrance.facility, timezone.localdate())
    actions.decide(holder_id=holder.pk, access_point=entrance, at=timezone.now())  # warm rules
    with CaptureQueriesContext(connection) as queries:
        decision = actions.decide(holder_id=holder.pk, access_point=entrance, at=timezone.now())
    assert decision.reason == "granted"
    statements = [q for q in queries.captured_queries if not q["sql"].startswith("SAVEPOINT")]
    assert len(statements) == 1
