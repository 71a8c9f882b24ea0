"""The demo's sales set-up: two pools selling single entries, 10-entry books, annual passes and
lessons with limited places; the library membership free for resident children; pay-per-entry
at the Pradines gate; `make tap`'s pool and book unchanged."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from identity import demo as identity_demo
from identity.models import Person
from services.catalog import demo
from services.catalog.models import Entitlement, FacilityAccessRules, Product
from services.catalog.queries import offers_for
from services.catalog.tariffs import quote
from services.pools import queries
from services.pools.models import LessonCourse

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def territory():
    with time_machine.travel(datetime(2026, 11, 25, 9, 0, tzinfo=PARIS), tick=False):
        identity_demo.load()
        demo.load()


def test_two_pools_sell_lessons_with_limited_places(territory):
    courses = LessonCourse.objects.select_related("facility").order_by("name")
    assert {c.facility.name for c in courses} == {"Piscine de Cahors", "Piscine de Pradines"}
    assert [c.places for c in courses] == [12, 8]
    with time_machine.travel(datetime(2026, 11, 25, 9, 0, tzinfo=PARIS), tick=False):
        offers = queries.courses_on_sale()
    assert [len(o.sessions) for o in sorted(offers, key=lambda o: o.course.name)] == [1, 5]


def test_loading_twice_adds_no_course(territory):
    counts = LessonCourse.objects.count()
    demo.load()
    assert LessonCourse.objects.count() == counts == 2


def test_pool_products_are_all_on_sale(territory):
    codes = set(Product.objects.filter(facility_kind="pool").values_list("code", flat=True))
    assert {"piscine-entree", "piscine-carnet-10", "piscine-pass-annuel"} <= codes
    assert set(Product.objects.values_list("regie_code", flat=True)) == {"piscines", "mediatheque"}


def test_library_membership_is_free_for_resident_children_only(territory):
    camille = Person.objects.get(user__email=identity_demo.RESIDENT_EMAIL)
    tom = camille.household.members.get(first_name="Tom")
    membership = Product.objects.get(code="mediatheque-adhesion")
    today = timezone.localdate()
    assert quote(product=membership, person=tom, on=today).price_cents == 0
    assert quote(product=membership, person=camille, on=today).price_cents > 0
    offers = {o.product.code: o for o in offers_for(tom)}
    assert offers["mediatheque-adhesion"].price_cents == 0
    assert "piscine-stage-natation" not in offers  # booked through the pools' page


def test_pradines_sells_entries_from_the_wallet_and_cahors_keeps_make_tap(territory):
    rules = {r.facility.name: r for r in FacilityAccessRules.objects.select_related("facility")}
    assert rules["Piscine de Pradines"].pay_per_entry_product.code == "piscine-entree"
    assert rules["Piscine de Cahors"].pay_per_entry_product is None
    camille = Person.objects.get(user__email=identity_demo.RESIDENT_EMAIL)
    book = Entitlement.objects.get(holder=camille, facility_kind="pool")
    assert (book.kind, book.entries_left) == ("entries", 10)


def test_lea_is_not_offered_the_library_membership_she_holds(territory):
    camille = Person.objects.get(user__email=identity_demo.RESIDENT_EMAIL)
    lea = camille.household.members.get(first_name="Léa")
    assert "mediatheque-adhesion" not in {o.product.code for o in offers_for(lea)}
