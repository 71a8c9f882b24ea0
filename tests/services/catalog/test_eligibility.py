"""Eligibility of products and lessons: an age range on the day that counts (the first session
of a course, the day of the sale otherwise) and residency on that day (the household's dated
address history); a product held once at a time is not sold again while still valid. Offered
only to the people it is open to, and refused by the actions with the reason."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from identity.errors import Conflict, DomainError
from payments.models import Order
from services.catalog import actions, eligibility, queries
from services.catalog.models import Entitlement, Product
from services.pools import actions as pool_actions
from services.pools.models import LessonBooking
from tests.factories import (
    AddressFactory,
    CommuneFactory,
    LessonCourseFactory,
    LessonProductFactory,
    ResidentFactory,
    collection_office,
    guardian_and_child,
    priced_product,
    site_administrator,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

TODAY = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(datetime(2026, 11, 25, 9, 0, tzinfo=timezone.get_default_timezone())):
        yield


def product(**fields):
    collection_office("piscines")
    return priced_product(price_cents=1500, regie_code="piscines", **fields)


def codes(person, **kwargs):
    return [offer.product.code for offer in queries.offers_for(person, **kwargs)]


class TestAgeRange:
    def test_a_child_product_is_offered_and_sold_to_the_child_only(self):
        adult, child = guardian_and_child(child_birth_date=date(2018, 3, 1))  # 8 today
        kids = product(code="aqua-enfants", min_age=6, max_age=12)
        assert "aqua-enfants" in codes(child)
        assert "aqua-enfants" not in codes(adult)
        actions.buy_product(actor=adult.user, person=child, product=kids)
        with pytest.raises(DomainError) as refused:
            actions.buy_product(actor=adult.user, person=adult, product=kids)
        assert refused.value.code == "not_eligible"
        assert refused.value.field == "person"
        assert "up to 12 years old" in refused.value.message
        assert adult.first_name in refused.value.message

    def test_the_bounds_are_included_and_the_day_of_the_sale_counts(self):
        _adult, child = guardian_and_child(child_birth_date=date(2020, 11, 26))  # 6 tomorrow
        kids = product(min_age=6, max_age=12)
        assert eligibility.refusal(kids, child, on=TODAY) is not None
        assert eligibility.refusal(kids, child, on=TODAY + timedelta(days=1)) is None
        assert eligibility.refusal(kids, child, on=date(2033, 11, 25)) is None  # 12
        assert eligibility.refusal(kids, child, on=date(2033, 11, 26)) is not None  # 13

    def test_lessons_count_the_age_on_the_day_of_the_first_session(self):
        adult, child = guardian_and_child(child_birth_date=date(2020, 11, 30))  # 6 on 30/11
        lesson = LessonProductFactory(min_age=6)
        starts = timezone.localtime().replace(hour=10, minute=0) + timedelta(days=7)
        course = LessonCourseFactory(product=lesson, sessions=1, sessions__starts=starts)
        booking = pool_actions.hold_place(actor=adult.user, person=child, course=course)
        assert booking.status == LessonBooking.Status.HELD
        too_soon = LessonCourseFactory(
            product=lesson, sessions=1, sessions__starts=starts - timedelta(days=4)
        )
        with pytest.raises(DomainError) as refused:
            pool_actions.hold_place(actor=adult.user, person=child, course=too_soon)
        assert refused.value.code == "not_eligible"
        assert LessonBooking.objects.count() == 1

    def test_the_lessons_page_offers_a_course_only_to_who_may_take_it(self, client):
        adult, child = guardian_and_child(child_birth_date=date(2018, 3, 1))
        course = LessonCourseFactory(product=LessonProductFactory(min_age=6, max_age=12))
        client.force_login(adult.user)
        page = client.get(reverse("pools:lessons")).content.decode()
        assert f'value="{child.public_id}"' in page
        assert f'value="{adult.public_id}"' not in page
        assert "Ages 6 to 12" in page
        assert course.name in page


class TestResidency:
    def test_residents_only_follows_the_address_history_on_the_day(self):
        resident = ResidentFactory(address__valid_from=date(2020, 1, 1))
        outside = CommuneFactory(territory=None)
        moved = resident.household.addresses.get()
        moved.valid_until = date(2026, 12, 1)
        moved.save()
        AddressFactory(household=resident.household, commune=outside, valid_from=date(2026, 12, 1))
        local = product(code="pass-residents", residents_only=True, kind="pass", validity_days=30)
        assert eligibility.refusal(local, resident, on=TODAY) is None
        refusal = eligibility.refusal(local, resident, on=date(2026, 12, 1))
        assert "residents of the territory" in refusal
        assert "01/12/2026" in refusal
        assert "pass-residents" in codes(resident)
        assert "pass-residents" not in codes(resident, on=date(2026, 12, 2))

    def test_a_non_resident_is_refused_by_the_action(self):
        outsider = ResidentFactory(address__commune=CommuneFactory(territory=None))
        local = product(residents_only=True)
        assert local.code not in codes(outsider)
        with pytest.raises(DomainError) as refused:
            actions.buy_product(actor=outsider.user, person=outsider, product=local)
        assert refused.value.code == "not_eligible"
        assert not Order.objects.exists()


class TestHeldOnce:
    def test_a_membership_still_valid_is_not_offered_nor_sold_again(self):
        resident = ResidentFactory()
        membership = product(
            code="adhesion", kind="membership", validity_days=365, facility_kind="library"
        )
        free = membership.grids.get().lines.get()
        free.price_cents = 0
        free.save()
        sale = actions.buy_product(actor=resident.user, person=resident, product=membership)
        (granted,) = sale.entitlements
        assert granted.product == membership
        assert "adhesion" not in codes(resident)
        with pytest.raises(Conflict) as refused:
            actions.buy_product(
                actor=resident.user,
                person=resident,
                product=membership,
                on=TODAY + timedelta(days=10),
            )
        assert refused.value.code == "already_held"
        assert "valid until 24/11/2027" in refused.value.message
        assert Entitlement.objects.count() == 1
        # Once it has ended (or was revoked), it is offered again.
        assert "adhesion" in codes(resident, on=date(2027, 11, 25))

    def test_an_entry_book_may_be_held_twice_unless_the_product_says_otherwise(self):
        resident = ResidentFactory()
        book = product(kind="entry_book", entries=10, validity_days=365)
        actions._grant_sold(product=book, holder=resident, day=TODAY, sale_ref="test:1")
        assert book.code in codes(resident)
        Product.objects.filter(pk=book.pk).update(held_once=True)
        book.refresh_from_db()
        assert book.code not in codes(resident)
        with pytest.raises(Conflict):
            actions.buy_product(actor=resident.user, person=resident, product=book)

    def test_an_inverted_age_range_cannot_be_stored(self):
        from django.db import IntegrityError, transaction

        with pytest.raises(IntegrityError), transaction.atomic():
            product(min_age=12, max_age=6)

    def test_the_products_page_describes_who_a_product_is_for(self, client):
        adult, child = guardian_and_child(child_birth_date=date(2018, 3, 1))
        product(code="aqua-enfants", name="Aquagym enfants", min_age=6, max_age=12)
        client.force_login(adult.user)
        page = client.get(reverse("catalog:products")).content.decode()
        assert page.count("Aquagym enfants") == 1
        assert "Ages 6 to 12" in page


class TestAdmin:
    def test_an_administrator_sets_the_eligibility_and_an_inverted_range_is_refused(self, client):

        admin = site_administrator()
        client.force_login(admin)
        kids = product(code="aqua-enfants", name="Aquagym enfants")
        url = f"/admin/catalog/product/{kids.pk}/change/"
        form = {
            "code": kids.code,
            "name": kids.name,
            "facility_kind": kids.facility_kind,
            "kind": kids.kind,
            "validity_days": kids.validity_days,
            "active": "on",
            "regie_code": kids.regie_code,
        }
        refused = client.post(url, {**form, "min_age": "12", "max_age": "6"})
        assert refused.status_code == 200
        assert refused.context["adminform"].form.errors
        kids.refresh_from_db()
        assert (kids.min_age, kids.max_age) == (None, None)
        saved = client.post(url, {**form, "min_age": "6", "max_age": "12", "residents_only": "on"})
        assert saved.status_code == 302
        kids.refresh_from_db()
        assert (kids.min_age, kids.max_age, kids.residents_only) == (6, 12, True)
        assert eligibility.describe(kids) == "Ages 6 to 12, residents of the territory"


class TestBasket:
    def test_a_pass_held_once_goes_into_the_basket_once_per_person(self):
        adult, child = guardian_and_child(child_birth_date=date(2018, 3, 1))
        season = product(code="pass-saison", kind="pass", validity_days=365, held_once=True)
        actions.buy_product(actor=adult.user, person=child, product=season, idempotency_key="k1")
        # The same form sent again is the same line, not a refusal.
        actions.buy_product(actor=adult.user, person=child, product=season, idempotency_key="k1")
        with pytest.raises(Conflict) as refused:
            actions.buy_product(
                actor=adult.user, person=child, product=season, idempotency_key="k2"
            )
        assert refused.value.code == "already_in_basket"
        actions.buy_product(actor=adult.user, person=adult, product=season, idempotency_key="k3")
        lines = Order.objects.get(basket=True).lines.all()
        assert sorted(line.beneficiary_id for line in lines) == sorted([child.pk, adult.pk])
