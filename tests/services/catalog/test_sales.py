"""Sales in Mon espace: a product bought for oneself or a child, priced by the tariff engine on
the day, goes into a payments order; when the line is paid the catalogue's fulfilment handler
grants an entitlement owned by the beneficiary with its validity dates, exactly once; a refund
revokes it. Bad input is refused with nothing created."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from identity.errors import DomainError, Forbidden
from payments.actions.fulfilment import fulfil_order
from payments.fulfilment import is_registered
from payments.models import Order, OrderLine
from services.catalog import actions
from services.catalog.models import AccessPoint, Entitlement, Product
from tests.factories import (
    AccessPointFactory,
    ResidentFactory,
    collection_office,
    guardian_and_child,
    priced_product,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


def book_product(**fields):
    collection_office("piscines")
    defaults = {"kind": "entry_book", "entries": 10, "validity_days": 365}
    return priced_product(price_cents=3000, regie_code="piscines", **{**defaults, **fields})


def paid(order: Order) -> Order:
    """The order as the provider's confirmation leaves it (the payments tests cover that path),
    then payments' own fulfilment run."""
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.PAID, paid_at=timezone.now(), basket=False
    )
    fulfil_order(order.pk)
    return order


def test_the_catalogue_registers_its_fulfilment_handler():
    assert is_registered(actions.SALE_HANDLER)


def test_an_order_line_carries_the_tariff_engines_price_and_explanation():
    resident = ResidentFactory()
    product = book_product()
    sale = actions.buy_product(actor=resident.user, person=resident, product=product, quantity=2)
    line = sale.order.lines.get()
    assert (line.unit_price_cents, line.quantity, line.explanation) == (3000, 2, "Full rate")
    assert line.handler == actions.SALE_HANDLER
    assert line.beneficiary == resident
    assert sale.order.total_cents == 6000
    assert not Entitlement.objects.exists()  # nothing until it is paid


def test_paid_line_grants_entitlements_with_validity_dates_exactly_once():
    resident = ResidentFactory()
    product = book_product(validity_days=30)
    order = actions.buy_product(
        actor=resident.user, person=resident, product=product, quantity=2
    ).order
    paid(order)
    line = order.lines.get()
    actions.fulfil_product_sale(line)  # a second delivery of the same line changes nothing
    granted = Entitlement.objects.filter(holder=resident)
    assert granted.count() == 2
    today = timezone.localdate()
    for entitlement in granted:
        assert entitlement.kind == Entitlement.Kind.ENTRIES
        assert (entitlement.entries_total, entitlement.entries_left) == (10, 10)
        assert entitlement.valid_from == today
        assert entitlement.valid_until == today + timedelta(days=29)
    line.refresh_from_db()
    assert line.fulfilled_at is not None


def test_a_pass_ends_with_its_season_and_a_child_gets_it_from_a_guardian():
    adult, child = guardian_and_child()
    season_end = timezone.localdate() + timedelta(days=100)
    product = book_product(kind="pass", entries=None, validity_days=None, season_ends_on=season_end)
    order = actions.buy_product(actor=adult.user, person=child, product=product).order
    paid(order)
    granted = Entitlement.objects.get()
    assert granted.holder == child
    assert granted.kind == Entitlement.Kind.PASS
    assert granted.valid_until == season_end


def test_a_refund_revokes_what_the_sale_granted():
    resident = ResidentFactory()
    order = actions.buy_product(actor=resident.user, person=resident, product=book_product()).order
    paid(order)
    entrance = AccessPointFactory(kind=AccessPoint.Kind.ENTRANCE)
    OrderLine.objects.filter(order=order).update(undo_requested_at=timezone.now())
    fulfil_order(order.pk)
    fulfil_order(order.pk)  # undone once
    assert Entitlement.objects.get().revoked_at is not None
    decision = actions.decide(holder_id=resident.pk, access_point=entrance, at=timezone.now())
    assert decision.reason == "no_entitlement"


def test_a_free_product_is_granted_at_once_without_an_order():
    adult, child = guardian_and_child()
    product = priced_product(
        price_cents=0, kind="membership", facility_kind="library", validity_days=365
    )
    sale = actions.buy_product(actor=adult.user, person=child, product=product)
    assert sale.order is None
    assert [e.holder for e in sale.entitlements] == [child]
    again = actions.buy_product(actor=adult.user, person=child, product=product)
    assert again.entitlements[0].pk == sale.entitlements[0].pk  # once per day
    assert not Order.objects.exists()


@pytest.mark.parametrize("quantity", [0, -1, -10, 11, "2", 1.5, True])
def test_a_bad_quantity_is_refused_and_nothing_is_created(quantity):
    resident = ResidentFactory()
    with pytest.raises(DomainError) as refused:
        actions.buy_product(
            actor=resident.user, person=resident, product=book_product(), quantity=quantity
        )
    assert refused.value.field == "quantity"
    assert not Order.objects.exists()
    assert not Entitlement.objects.exists()


def test_a_pass_is_bought_one_at_a_time():
    resident = ResidentFactory()
    product = book_product(kind="pass", entries=None)
    with pytest.raises(DomainError, match="one at a time"):
        actions.buy_product(actor=resident.user, person=resident, product=product, quantity=2)


def test_nobody_buys_for_a_stranger():
    resident, stranger = ResidentFactory(), ResidentFactory()
    with pytest.raises(Forbidden):
        actions.buy_product(actor=resident.user, person=stranger, product=book_product())
    assert not Order.objects.exists()


def test_a_product_off_sale_or_out_of_season_or_without_price_is_refused():
    resident = ResidentFactory()
    off_sale = book_product(active=False)
    past_season = book_product(
        kind="pass", entries=None, validity_days=None, season_ends_on=date(2025, 12, 31)
    )
    unpriced = Product.objects.create(
        code="sans-prix", name="Sans prix", facility_kind="pool", kind="pass", validity_days=10
    )
    refusals = [(off_sale, "not_on_sale"), (past_season, "season_over"), (unpriced, "no_tariff")]
    for product, code in refusals:
        with pytest.raises(DomainError) as refused:
            actions.buy_product(actor=resident.user, person=resident, product=product)
        assert refused.value.code == code
    assert not Order.objects.exists()


def test_lessons_are_not_sold_as_catalogue_products():
    resident = ResidentFactory()
    product = book_product(kind="lesson", entries=None, validity_days=None)
    with pytest.raises(DomainError):
        actions.buy_product(actor=resident.user, person=resident, product=product)


def test_the_price_is_the_one_of_the_sale_day():
    resident = ResidentFactory()
    product = book_product()
    grid = product.grids.get()
    grid.valid_until = date(2026, 12, 31)
    grid.save()
    from tests.factories import TariffLineFactory

    TariffLineFactory(grid__product=product, grid__valid_from=date(2027, 1, 1), price_cents=4000)
    sold_later = actions.buy_product(
        actor=resident.user, person=resident, product=product, on=date(2027, 2, 1)
    )
    assert sold_later.order.lines.get().unit_price_cents == 4000


def test_an_invalid_period_is_refused_by_grant_entitlement():
    resident = ResidentFactory()
    today = timezone.localdate()
    with pytest.raises(DomainError):
        actions.grant_entitlement(
            actor=None,
            holder=resident,
            kind="pass",
            facility_kind="pool",
            label="x",
            valid_from=today,
            valid_until=today - timedelta(days=1),
        )
    with pytest.raises(DomainError):
        actions.grant_entitlement(
            actor=None,
            holder=resident,
            kind="entries",
            facility_kind="pool",
            label="x",
            valid_from=today,
            valid_until=today,
            entries=-3,
        )
    assert not Entitlement.objects.exists()


def test_a_quota_is_a_yearly_allowance_of_uses():
    resident = ResidentFactory()
    year_end = timezone.localdate().replace(month=12, day=31)
    quota = book_product(kind="quota", entries=24, validity_days=None, season_ends_on=year_end)
    order = actions.buy_product(actor=resident.user, person=resident, product=quota).order
    paid(order)
    granted = Entitlement.objects.get()
    assert (granted.kind, granted.entries_total, granted.entries_left) == ("entries", 24, 24)
    assert granted.valid_until == year_end
