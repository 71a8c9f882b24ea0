"""The month's bill of a household: every meal priced by the tariff engine on its day, with
its explanation, as one order of payments whose invoice is issued and numbered at once in the
régie's gapless sequence; billed again, nothing more is issued; a school closed late and
cancelled days are not billed; a meal without booking at the penalty price. The parent reads
the invoice in Mon espace and pays it at the desk (its receipt names the invoice)."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader

from identity.errors import Conflict, DomainError, Forbidden
from identity.models import AuditEntry, StaffRole
from identity.notifications.models import Notification
from identity.schooling.actions import close_school
from payments.actions.desk import record_desk_payment
from payments.actions.orders import cancel_order
from payments.models import Document, Order
from payments.pdf import document_pdf
from services.canteen import actions, billing
from services.canteen.models import Booking
from tests.factories import TariffLineFactory, collection_office, staff_user
from tests.services.canteen.factories import (
    canteen_site,
    enrolled_child,
    lunch,
    served_without_booking,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

PARIS = ZoneInfo("Europe/Paris")
JANUARY = datetime(2027, 1, 4, 9, tzinfo=PARIS)  # December is over: it can be billed


def priced(name: str, cents: int):
    collection_office("cantine")
    line = TariffLineFactory(
        grid__product__name=name, grid__product__regie_code="cantine", price_cents=cents
    )
    return line.grid.product


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def december_of(site, service, days=(date(2026, 12, 3), date(2026, 12, 4))):
    with time_machine.travel(datetime(2026, 11, 30, 10, tzinfo=PARIS), tick=False):
        guardian, child = enrolled_child(site)
        actions.book_days(
            actor=guardian.user, child=child, service=service, days=list(days), key="m"
        )
    return guardian, child


@pytest.fixture
def december():
    """A child booked on four lunches of December (one cancelled), served once without booking,
    and a strike closing the school on one booked day."""
    with time_machine.travel(datetime(2026, 11, 30, 10, tzinfo=PARIS), tick=False):
        site = canteen_site()
        service = lunch(
            site, product=priced("Repas", 350), penalty_product=priced("Repas majoré", 700)
        )
        guardian, child = enrolled_child(site)
        days = [date(2026, 12, 3), date(2026, 12, 4), date(2026, 12, 7), date(2026, 12, 8)]
        actions.book_days(actor=guardian.user, child=child, service=service, days=days, key="m")
        actions.cancel_days(actor=guardian.user, child=child, service=service, days=days[3:])
        close_school(actor=staff_user(StaffRole.Role.ADMIN), day=days[2], reason="Grève")
    served_without_booking(child, service, date(2026, 12, 10))
    return child.household, child


@pytest.fixture
def officer():
    return staff_user(StaffRole.Role.FINANCE_OFFICER)


@time_machine.travel(JANUARY)
def test_the_month_is_billed_once_with_prices_and_reasons(december, officer):
    household, child = december
    order = billing.bill_month(actor=officer, household=household, year=2026, month=12)
    lines = {line.label: line for line in order.lines.all()}
    meals = lines["Repas"]
    assert (meals.quantity, meals.unit_price_cents) == (2, 350)  # 3 and 4 December
    assert meals.explanation  # the tariff engine's why
    assert meals.payload["days"] == ["2026-12-03", "2026-12-04"]
    penalty = lines["Repas majoré (without booking)"]
    assert (penalty.quantity, penalty.unit_price_cents) == (1, 700)
    assert order.total_cents == 2 * 350 + 700
    again = billing.bill_month(actor=officer, household=household, year=2026, month=12)
    assert again.pk == order.pk
    assert Order.objects.count() == 1
    assert Document.objects.filter(kind="invoice").count() == 1


@time_machine.travel(JANUARY)
def test_the_invoice_is_numbered_when_issued_before_any_payment(december, officer):
    household, child = december
    site = Booking.objects.first().service.site
    other_guardian, _other = december_of(site, Booking.objects.first().service)
    first = billing.bill_month(actor=officer, household=household, year=2026, month=12)
    second = billing.bill_month(
        actor=officer, household=other_guardian.household, year=2026, month=12
    )
    invoices = [o.documents.get(kind="invoice") for o in (first, second)]
    assert [i.reference for i in invoices] == ["CANTINE-2027-F000001", "CANTINE-2027-F000002"]
    assert [o.status for o in (first, second)] == ["pending", "pending"]  # not paid yet
    assert invoices[0].amount_cents == first.total_cents == 1400
    text = pdf_text(document_pdf(invoices[0]))
    assert "FACTURE N° CANTINE-2027-F000001" in text
    assert "Facture à régler" in text
    assert "acquittée" not in text
    assert invoices[0].content["lines"][0]["explanation"] in text  # the why, on paper
    assert "14,00" in text
    # The parent was told, and the issue is in the audit trail.
    assert Notification.objects.filter(topic="canteen.invoice_issued").count() == 2
    assert AuditEntry.objects.filter(action="canteen.month_billed").count() == 2


@time_machine.travel(JANUARY)
def test_paid_at_the_desk_the_receipt_names_the_invoice_and_no_second_invoice(december, officer):
    household, _child = december
    order = billing.bill_month(actor=officer, household=household, year=2026, month=12)
    record_desk_payment(
        actor=officer, order=order, method="cash", amount_cents=1400, idempotency_key="desk-1"
    )
    invoice = order.documents.get(kind="invoice")
    receipt = order.documents.get(kind="receipt")
    assert receipt.content["invoice"] == invoice.reference
    assert "Facture acquittée : CANTINE-2027-F000001" in pdf_text(document_pdf(receipt))
    assert Order.objects.get(pk=order.pk).status == "paid"


@time_machine.travel(JANUARY)
def test_the_parent_sees_the_invoice_in_mon_espace_and_opens_its_pdf(december, officer, client):
    household, child = december
    order = billing.bill_month(actor=officer, household=household, year=2026, month=12)
    invoice = order.documents.get(kind="invoice")
    parent = order.payer
    client.force_login(parent.user)
    page = client.get(reverse("payments:mine"))
    assert invoice.reference in page.content.decode()
    pdf = client.get(reverse("payments:document", args=[invoice.public_id]))
    assert pdf.status_code == 200
    assert "Facture à régler" in pdf_text(pdf.content)
    # Someone else's household does not.
    stranger, _ = december_of(Booking.objects.first().service.site, Booking.objects.first().service)
    client.force_login(stranger.user)
    assert client.get(reverse("payments:document", args=[invoice.public_id])).status_code == 404


def test_a_month_is_billed_once_it_is_over(december, officer):
    household, _child = december
    last_evening = datetime(2026, 12, 31, 20, tzinfo=PARIS)
    with time_machine.travel(last_evening), pytest.raises(DomainError) as refused:
        billing.bill_month(actor=officer, household=household, year=2026, month=12)
    assert refused.value.field == "month"
    assert not Order.objects.exists()


def test_only_finance_officers_bill(december):
    household, _child = december
    with pytest.raises(Forbidden):
        billing.bill_month(
            actor=staff_user(StaffRole.Role.CLERK), household=household, year=2026, month=12
        )


@time_machine.travel(JANUARY)
def test_the_monthly_run_bills_last_month_of_every_household_once(december):
    service = Booking.objects.first().service
    december_of(service.site, service)
    call_command("canteen_bill_month")  # the previous month by default
    call_command("canteen_bill_month", "--year", "2026", "--month", "12")  # again: nothing new
    assert Order.objects.count() == 2
    assert Document.objects.filter(kind="invoice").count() == 2
    assert set(Order.objects.values_list("status", flat=True)) == {"pending"}


def test_the_demo_bills_the_previous_month_once(december):
    from services.canteen import demo_invoices

    with time_machine.travel(JANUARY):
        assert demo_invoices.load() == 1
        assert demo_invoices.load() == 1  # the same order, nothing issued twice
    assert Document.objects.filter(kind="invoice").count() == 1


@time_machine.travel(JANUARY)
def test_the_parent_pays_the_invoice_from_their_wallet_on_its_page(december, officer, client):
    from payments import queries as payment_queries
    from tests.payments.factories import topped_up

    household, _child = december
    order = billing.bill_month(actor=officer, household=household, year=2026, month=12)
    parent = order.payer
    client.force_login(parent.user)
    page = client.get(reverse("payments:checkout", args=[order.public_id])).content.decode()
    assert "data-pay-with-wallet" in page
    pay = reverse("payments:pay_with_wallet", args=[order.public_id])
    short = client.post(pay, {"attempt": 0}, follow=True)  # an empty wallet
    assert "The balance is insufficient" in short.content.decode()
    assert Order.objects.get(pk=order.pk).status == "pending"
    topped_up(parent, 2000)
    answer = client.post(pay, {"attempt": 0})
    assert answer.status_code == 302
    assert client.post(pay, {"attempt": 0}).status_code == 302  # a double click: one payment
    order.refresh_from_db()
    assert order.status == "paid"
    assert payment_queries.wallet_balance(parent.pk) == 2000 - 1400
    receipt = order.documents.get(kind="receipt")
    assert receipt.content["invoice"] == order.documents.get(kind="invoice").reference
    assert "Mode de paiement : Porte-monnaie" in pdf_text(document_pdf(receipt))
    assert order.payments.filter(status="succeeded").count() == 1
    assert AuditEntry.objects.filter(action="payments.wallet_payment").count() == 1


@time_machine.travel(JANUARY)
def test_an_issued_invoice_is_not_cancelled_by_the_parent(december, officer, client):
    household, _child = december
    order = billing.bill_month(actor=officer, household=household, year=2026, month=12)
    client.force_login(order.payer.user)
    page = client.get(reverse("payments:checkout", args=[order.public_id])).content.decode()
    invoice = order.documents.get(kind="invoice")
    assert f"<h1>Invoice {invoice.reference} to pay</h1>" in page
    assert "Cancel this order" not in page
    refused = client.post(reverse("payments:cancel", args=[order.public_id]), follow=True)
    assert "An issued invoice is not cancelled" in refused.content.decode()
    with pytest.raises(Conflict) as conflict:
        cancel_order(actor=None, order=order)  # not even by the system
    assert conflict.value.code == "invoice_issued"
    assert Order.objects.get(pk=order.pk).status == "pending"


@time_machine.travel(JANUARY)
def test_paid_online_the_invoice_keeps_its_number(december, officer):
    from tests.payments.factories import pay

    household, _child = december
    order = billing.bill_month(actor=officer, household=household, year=2026, month=12)
    pay(order)  # through the online (demo) provider, as from the order's page
    order.refresh_from_db()
    assert order.status == "paid"
    assert [d.reference for d in order.documents.filter(kind="invoice")] == ["CANTINE-2027-F000001"]
    assert order.documents.get(kind="receipt").content["invoice"] == "CANTINE-2027-F000001"
