"""The catalogue's decision at an access point, and the rules for granting entitlements."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from identity.errors import DomainError
from services.catalog.actions import decide, grant_entitlement
from services.catalog.models import AccessPoint, Entitlement
from tests.factories import AccessPointFactory, EntitlementFactory, PassFactory, PersonFactory

pytestmark = pytest.mark.django_db


def test_a_pool_pass_opens_every_pool_of_the_territory():
    holder = PersonFactory()
    PassFactory(holder=holder)
    for _pool in range(2):
        decision = decide(holder_id=holder.pk, access_point=AccessPointFactory(), at=timezone.now())
        assert decision.granted


def test_an_entry_book_is_consumed_at_entrances_only():
    holder = PersonFactory()
    book = EntitlementFactory(holder=holder, entries_left=1)
    desk = AccessPointFactory(kind=AccessPoint.Kind.DESK)
    assert decide(holder_id=holder.pk, access_point=desk, at=timezone.now()).consumed == 0
    entrance = AccessPointFactory(facility=desk.facility)
    assert decide(holder_id=holder.pk, access_point=entrance, at=timezone.now()).consumed == 1
    refused = decide(holder_id=holder.pk, access_point=entrance, at=timezone.now())
    assert (refused.granted, refused.reason) == (False, "no_entitlement")
    book.refresh_from_db()
    assert book.entries_left == 0


def test_the_day_is_the_local_day_in_paris():
    holder = PersonFactory()
    EntitlementFactory(holder=holder, valid_from=date(2026, 7, 1), valid_until=date(2026, 7, 31))
    entrance = AccessPointFactory()
    # 23:30 UTC on 31 July is already 1 August in Paris: the book has ended.
    late = datetime(2026, 7, 31, 23, 30, tzinfo=UTC)
    assert not decide(holder_id=holder.pk, access_point=entrance, at=late).granted
    evening = datetime(2026, 7, 31, 20, 0, tzinfo=UTC)
    assert decide(holder_id=holder.pk, access_point=entrance, at=evening).granted


@pytest.mark.parametrize(
    ("kind", "entries", "until_offset", "field"),
    [
        (Entitlement.Kind.ENTRIES, 0, 10, "entries"),
        (Entitlement.Kind.ENTRIES, -3, 10, "entries"),
        (Entitlement.Kind.ENTRIES, None, 10, "entries"),
        (Entitlement.Kind.PASS, 5, 10, "entries"),
        (Entitlement.Kind.PASS, None, -1, "valid_until"),
    ],
)
def test_impossible_entitlements_are_refused(kind, entries, until_offset, field):
    today = timezone.localdate()
    with pytest.raises(DomainError) as refused:
        grant_entitlement(
            actor=None,
            holder=PersonFactory(),
            kind=kind,
            facility_kind="pool",
            label="x",
            valid_from=today,
            valid_until=today + timedelta(days=until_offset),
            entries=entries,
        )
    assert refused.value.field == field
    assert not Entitlement.objects.exists()


def test_a_town_hall_desk_identifies_the_resident_without_any_entitlement():
    holder = PersonFactory()
    town_hall = AccessPointFactory(
        kind=AccessPoint.Kind.DESK, facility__kind="town_hall", facility__name="Mairie"
    )
    decision = decide(holder_id=holder.pk, access_point=town_hall, at=timezone.now())
    assert (decision.granted, decision.reason, decision.consumed) == (True, "identified", 0)
    library_desk = AccessPointFactory(kind=AccessPoint.Kind.DESK, facility__kind="library")
    refused = decide(holder_id=holder.pk, access_point=library_desk, at=timezone.now())
    assert (refused.granted, refused.reason) == (False, "no_entitlement")
