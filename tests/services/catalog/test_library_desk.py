"""The médiathèque's annual membership: free for residents under 18 (granted at once), priced
otherwise (an order); the library desk scans the card (the card number is the borrower number)
and shows the membership and until when it is valid, consuming nothing."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from card.actions.desk import staff_check
from identity.models import Facility, StaffRole
from services.catalog import actions
from services.catalog.models import AccessPoint, Entitlement
from tests.factories import (
    AccessPointFactory,
    CardFactory,
    FacilityFactory,
    TariffLineFactory,
    collection_office,
    guardian_and_child,
    staff_user,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


@pytest.fixture
def membership():
    """The library's membership: 0 € for resident children, 15 € for adults, 25 € otherwise."""
    collection_office("mediatheque")
    line = TariffLineFactory(
        grid__product__code="mediatheque-adhesion",
        grid__product__name="Adhésion médiathèque",
        grid__product__facility_kind=Facility.Kind.LIBRARY,
        grid__product__kind="membership",
        grid__product__validity_days=365,
        grid__product__regie_code="mediatheque",
        residency="non_resident",
        price_cents=2500,
    )
    grid = line.grid
    TariffLineFactory(grid=grid, residency="resident", price_cents=1500)
    TariffLineFactory(grid=grid, residency="resident", age_bracket="child", price_cents=0)
    return grid.product


@pytest.fixture
def library_desk():
    library = FacilityFactory(name="Médiathèque", kind=Facility.Kind.LIBRARY)
    return AccessPointFactory(facility=library, name="Accueil", kind=AccessPoint.Kind.DESK)


def test_a_resident_child_joins_for_free_and_an_adult_pays(membership):
    adult, child = guardian_and_child()  # residents: their address is in a member commune
    free = actions.buy_product(actor=adult.user, person=child, product=membership)
    assert free.order is None
    assert free.price.explanation == "Resident rate, child, free"
    granted = free.entitlements[0]
    assert (granted.kind, granted.facility_kind) == (Entitlement.Kind.PASS, "library")
    assert granted.valid_until == timezone.localdate() + timedelta(days=364)
    paying = actions.buy_product(actor=adult.user, person=adult, product=membership)
    assert paying.order.total_cents == 1500


def test_the_library_desk_shows_the_membership_and_its_end(client, membership, library_desk):
    adult, child = guardian_and_child()
    card = CardFactory(holder=child)
    actions.buy_product(actor=adult.user, person=child, product=membership)
    librarian = staff_user(StaffRole.Role.LIBRARIAN, facility=library_desk.facility)
    answer = staff_check(actor=librarian, access_point=library_desk, credential=card.number)
    assert (answer["granted"], answer["reason"]) == (True, "valid")
    end = timezone.localdate() + timedelta(days=364)
    assert answer["entitlement"]["valid_until"] == end.isoformat()
    assert answer["entitlement"]["consumed"] == 0
    client.force_login(librarian)
    page = client.get(reverse("card:desk", args=[library_desk.public_id])).content.decode()
    assert "Adhésion médiathèque" in page
    assert "valid until" in page


def test_without_membership_the_desk_says_so(membership, library_desk):
    card = CardFactory()
    librarian = staff_user(StaffRole.Role.LIBRARIAN, facility=library_desk.facility)
    answer = staff_check(actor=librarian, access_point=library_desk, credential=card.number)
    assert (answer["granted"], answer["reason"]) == (False, "no_entitlement")
