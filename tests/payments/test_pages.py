"""The pages: a resident tops up a wallet and pays through the demo page, finds the receipt;
a guardian for a child; nobody else sees anything; the régisseur lists, refunds, records a
desk payment and downloads the reconciliation."""

import codecs
import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from identity.models import AuditEntry, StaffRole
from payments import queries
from payments.actions.checkout import start_payment
from payments.actions.desk import record_desk_payment
from payments.actions.orders import LineInput, create_order
from payments.actions.refunds import refund_payment
from payments.demo import produce_daily_payout
from payments.models import Document, Order, Payment
from tests.card.factories import logged_in
from tests.factories import ResidentFactory, staff_user
from tests.payments.factories import (
    Recorder,
    RegieFactory,
    order_for,
    pay,
    regisseur,
    resident_with_child,
    topped_up,
    wallet_regie,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("django_capture_on_commit_callbacks")]


def top_up_through_the_pages(client, person, amount="20", key="k-1"):
    return client.post(
        reverse("payments:wallet", args=[person.public_id]),
        {"amount": amount, "idempotency_key": key},
    )


def test_top_up_pay_on_the_demo_page_and_get_the_receipt(
    django_capture_on_commit_callbacks, in_english
):
    wallet_regie()
    resident = ResidentFactory()
    client = logged_in(resident.user)
    response = top_up_through_the_pages(client, resident, "20,50")
    order = Order.objects.get()
    assert order.basket
    # Mon espace's top-up goes to the basket, whose page is the order's checkout
    assert response.url == reverse("payments:basket")
    assert client.get(response.url).url == reverse("payments:checkout", args=[order.public_id])
    response = client.get(response.url)
    page = client.get(response.url)
    assert "Added to your basket." in page.content.decode()
    assert "Démo — aucun paiement réel" in page.content.decode()
    assert "20,50" in page.content.decode()
    # a double click: two posts of the same form
    drawn = page.context["form"].initial
    first = client.post(response.url, drawn)
    second = client.post(response.url, drawn)
    assert first.url == second.url
    assert Payment.objects.count() == 1
    demo_page = client.get(first.url)
    assert "Démo — aucun paiement réel" in demo_page.content.decode()
    payment = Payment.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        result = client.post(first.url, {"outcome": "pay"})
        client.post(first.url, {"outcome": "pay"})  # back button, posted again
    assert result.url == reverse("payments:result", args=[payment.public_id])
    assert "was received" in client.get(result.url).content.decode()
    assert queries.wallet_balance(resident.pk) == 2050
    assert len(mail.outbox) == 1
    mine = client.get(reverse("payments:mine")).content.decode()
    receipt = Document.objects.get(kind="receipt")
    assert receipt.reference in mine
    pdf = client.get(reverse("payments:document", args=[receipt.public_id]))
    assert pdf["Content-Type"] == "application/pdf"
    assert receipt.reference in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()


def test_declined_then_abandoned_then_paid(in_english):
    Recorder()
    resident = ResidentFactory()
    order = order_for(resident, 1000)
    client = logged_in(resident.user)
    checkout = reverse("payments:checkout", args=[order.public_id])

    def click_pay():
        drawn = client.get(checkout).context["form"].initial
        return client.post(checkout, drawn).url

    demo = click_pay()
    client.post(demo, {"outcome": "decline"})
    assert Payment.objects.get().status == "failed"
    demo = click_pay()
    result = client.post(demo, {"outcome": "abandon"}).url
    assert "abandoned" in client.get(result).content.decode()
    demo = click_pay()
    client.post(demo, {"outcome": "pay"})
    order.refresh_from_db()
    assert order.status == "paid"
    assert Payment.objects.filter(status="succeeded").count() == 1


@pytest.mark.parametrize(
    ("amount", "message"),
    [("0", "greater than zero"), ("500,01", "may not exceed"), ("abc", "Enter an amount")],
)
def test_top_up_amount_is_checked_with_a_clear_message(amount, message, in_english):
    wallet_regie()
    resident = ResidentFactory()
    response = top_up_through_the_pages(logged_in(resident.user), resident, amount)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Order.objects.exists()


def test_a_guardian_tops_up_a_child_and_a_stranger_cannot(in_english):
    wallet_regie()
    parent, child = resident_with_child()
    assert top_up_through_the_pages(logged_in(parent.user), child).status_code == 302
    stranger = ResidentFactory()
    assert top_up_through_the_pages(logged_in(stranger.user), child, key="k2").status_code == 404
    mine = logged_in(parent.user).get(reverse("payments:mine")).content.decode()
    assert child.first_name in mine


def test_a_paid_order_page_is_the_order_with_its_reference_and_refunds_per_line(in_english):
    """Unpaid, the page is the basket with the demo banner; paid, it is the order: titled as
    one, with the reference the régie's desk asks for, each line's refunds, its documents,
    and no demo banner."""
    Recorder()
    resident = ResidentFactory()
    order = order_for(resident, 1200, 800)
    client = logged_in(resident.user)
    url = reverse("payments:checkout", args=[order.public_id])
    unpaid = client.get(url).content.decode()
    assert "Order awaiting payment" in unpaid
    assert "Démo — aucun paiement réel" in unpaid
    at = datetime(2026, 12, 3, 15, 0, tzinfo=ZoneInfo("Europe/Paris"))
    with time_machine.travel(at, tick=False):
        payment = pay(order)
        second_line = order.lines.order_by("pk")[1]
        refund_payment(
            actor=regisseur(),
            payment=payment,
            amount_cents=300,
            destination="card",
            reason="Séance annulée",
            idempotency_key="r",
            line_ids=[second_line.pk],
        )
    page = client.get(url)
    html = page.content.decode()
    assert "Your order of Dec. 3, 2026" in html
    assert "Your basket" not in html
    assert "Démo — aucun paiement réel" not in html
    assert f"<code data-reference>{order.public_id}</code>" in html
    first, second = page.context["lines"]
    assert first.refunds == []
    assert [(r.amount_cents, r.refund.reason) for r in second.refunds] == [(300, "Séance annulée")]
    assert "3,00\xa0€ refunded on Dec. 3, 2026 — Séance annulée" in html
    receipt = Document.objects.get(kind="receipt")
    assert reverse("payments:document", args=[receipt.public_id]) in html
    mine = client.get(reverse("payments:mine")).content.decode()
    assert url in mine  # the order is reached from Mes paiements


def test_documents_and_orders_are_private():
    Recorder()
    owner = ResidentFactory()
    payment = pay(order_for(owner, 1000))
    receipt = payment.documents.get(kind="receipt")
    stranger = logged_in(ResidentFactory().user)
    assert stranger.get(reverse("payments:document", args=[receipt.public_id])).status_code == 404
    assert (
        stranger.get(reverse("payments:checkout", args=[payment.order.public_id])).status_code
        == 404
    )
    assert stranger.get(reverse("payments:result", args=[payment.public_id])).status_code == 404
    assert (
        stranger.get(reverse("payments:demo_checkout", args=[payment.public_id])).status_code == 404
    )


def test_the_regisseur_lists_opens_and_refunds(in_english):
    Recorder()
    resident = ResidentFactory(last_name="Martin")
    payment = pay(order_for(resident, 3000))
    officer = regisseur()
    client = logged_in(officer)
    listing = client.get(reverse("payments:staff_payments"), {"q": "Martin"})
    assert payment.public_id in listing.content.decode()
    url = reverse("payments:staff_payment", args=[payment.public_id])
    assert client.get(url).status_code == 200
    assert AuditEntry.objects.filter(action="payments.open_payment", actor=officer).exists()
    too_much = client.post(
        url, {"amount": "30,01", "destination": "card", "reason": "x", "idempotency_key": "r1"}
    )
    assert "left to refund" in too_much.content.decode()
    done = client.post(
        url,
        {
            "amount": "10",
            "destination": "card",
            "reason": "Séance annulée",
            "idempotency_key": "r2",
        },
    )
    assert done.status_code == 302
    payment.refresh_from_db()
    assert payment.refunded_cents == 1000


@pytest.mark.parametrize(
    ("amount", "said"),
    [("10", "Nothing is left to refund on this payment"), ("abc", "Enter an amount in euros")],
)
def test_a_refund_form_sent_once_nothing_is_left_to_refund_is_answered(amount, said, in_english):
    """The page was drawn before another régisseur refunded everything: there is no refund
    form any more to show the refusal beside, so it shows above the page."""
    Recorder()
    payment = pay(order_for(ResidentFactory(), 3000))
    refund_payment(
        actor=regisseur(),
        payment=payment,
        amount_cents=3000,
        destination="card",
        reason="x",
        idempotency_key="all",
    )
    client = logged_in(regisseur())
    page = client.post(
        reverse("payments:staff_payment", args=[payment.public_id]),
        {"amount": amount, "destination": "card", "reason": "x", "idempotency_key": "late"},
    )
    assert page.status_code == 200
    assert said in page.content.decode()
    assert 'name="amount"' not in page.content.decode()


@pytest.mark.parametrize(
    "role", [StaffRole.Role.CLERK, StaffRole.Role.POOL_AGENT, StaffRole.Role.ADMIN]
)
def test_other_staff_see_no_payment(role):
    client = logged_in(staff_user(role))
    for name in ("payments:staff_payments", "payments:reconciliation", "payments:staff_desk"):
        assert client.get(reverse(name)).status_code == 403


def test_desk_payment_through_the_page(in_english):
    Recorder()
    resident = ResidentFactory()
    order = order_for(resident, 1250, channel="desk")
    client = logged_in(regisseur())
    response = client.post(
        reverse("payments:staff_desk"),
        {
            "order": order.public_id,
            "method": "cheque",
            "amount": "12,50",
            "cheque_number": "",
            "idempotency_key": "d",
        },
    )
    assert "cheque number" in response.content.decode()
    response = client.post(
        reverse("payments:staff_desk"),
        {
            "order": order.public_id,
            "method": "cheque",
            "amount": "12,50",
            "cheque_number": "1234567",
            "idempotency_key": "d",
        },
    )
    assert response.status_code == 302
    assert Payment.objects.get().method == "cheque"


def test_reconciliation_csv_and_pdf_with_a_matched_demo_payout(in_english):
    Recorder()
    resident = ResidentFactory()
    pool = RegieFactory(code="pool", name="Régie des piscines")
    online = pay(order_for(resident, 3000, regie=pool))
    kiosk = pay(order_for(resident, 1000, channel="kiosk", regie=pool))
    desk_order = order_for(resident, 700, channel="desk", regie=pool)
    officer = regisseur()
    record_desk_payment(
        actor=officer, order=desk_order, method="cash", amount_cents=700, idempotency_key="c"
    )
    refund_payment(
        actor=officer,
        payment=online,
        amount_cents=500,
        destination="card",
        reason="x",
        idempotency_key="r",
    )
    today = timezone.localdate()
    payout = produce_daily_payout(today)
    assert payout.amount_cents == 3000 + 1000 - 500
    client = logged_in(officer)
    url = reverse("payments:reconciliation")
    rows = csv_rows(client.get(url, {"day": today.isoformat(), "format": "csv"}))
    assert online.public_id in rows[1]
    assert kiosk.public_id in rows[2]
    assert ["Régie des piscines", "3", "47,00", "5,00", "42,00"] in rows
    assert ["En ligne", "1", "30,00"] in rows
    assert ["Borne", "1", "10,00"] in rows
    assert ["Accueil — espèces", "1", "7,00"] in rows
    assert [payout.provider_reference, "Démo, aucun paiement réel"] + [
        "35,00",
        "0,00",
        "40,00",
        "5,00",
        "rapproché",
    ] in rows
    assert ["Démo, aucun paiement réel", "0,00"] in rows  # all the day's card money paid out
    assert ["Grand livre équilibré", "oui"] in rows
    pdf = client.get(url, {"day": today.isoformat(), "format": "pdf"})
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "Rapprochement journalier" in text
    assert "rapproché" in text
    html = client.get(url, {"day": (today - timedelta(days=1)).isoformat()})
    assert html.status_code == 200


def csv_rows(response) -> list[list[str]]:
    """The rows of a CSV download, checking it is what French Excel opens: UTF-8 with a BOM,
    `;`-separated."""
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(codecs.BOM_UTF8)
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


@pytest.fixture
def three_regies_day(django_capture_on_commit_callbacks):
    """A day of 5 December 2026 at 10:30 in Paris: an order split between the pools and the
    library, a library payment refunded in part at the desk, a wallet top-up."""
    Recorder()
    pool = RegieFactory(code="pool", name="Régie des piscines")
    library = RegieFactory(code="lib", name="Régie de la médiathèque")
    resident = ResidentFactory()
    at = datetime(2026, 12, 5, 10, 30, tzinfo=ZoneInfo("Europe/Paris"))
    with time_machine.travel(at, tick=False):
        split = create_order(
            buyer=resident.user,
            payer=resident,
            lines=[
                LineInput(regie=pool, label="Entrée", handler="test.thing", unit_price_cents=450),
                LineInput(
                    regie=library, label="Carte", handler="test.thing", unit_price_cents=1200
                ),
            ],
        )
        pay(split)
        desk = order_for(resident, 2000, channel="desk", regie=library)
        desk_payment = record_desk_payment(
            actor=regisseur(),
            order=desk,
            method="cheque",
            amount_cents=2000,
            cheque_number="1234567",
            idempotency_key="d",
        )
        refund_payment(
            actor=regisseur(),
            payment=desk_payment,
            amount_cents=250,
            destination="cash",
            reason="Erreur de tarif",
            idempotency_key="r",
        )
        topped_up(resident, 1050)
    return at.date()


def test_the_reconciliation_totals_each_regie_in_the_csv_the_pdf_and_the_page(three_regies_day):
    """The same words on the page (in French, the site's language), in the PDF and in the
    spreadsheet; each régie's share of a split order, its refunds and its net."""
    client = logged_in(regisseur())
    url = reverse("payments:reconciliation")
    query = {"day": three_regies_day.isoformat()}
    rows = csv_rows(client.get(url, {**query, "format": "csv"}))
    assert rows[0] == [
        "Date",
        "Heure",
        "Référence du paiement",
        "Référence de la commande",
        "Régie",
        "Canal",
        "Moyen de paiement",
        "Prestataire",
        "Référence chez le prestataire",
        "Montant (€)",
        "Montant remboursé (€)",
        "Virement",
    ]
    split = rows[1]
    assert split[:2] == ["05/12/2026", "10:30"]
    assert split[4] == "Régie de la médiathèque, Régie des piscines"
    assert split[5:8] == ["En ligne", "Carte bancaire", "Démo, aucun paiement réel"]
    assert split[9:11] == ["16,50", "0,00"]
    assert rows[2][5:11] == [
        "Accueil — chèques",
        "Chèque",
        "Guichet de la régie",
        rows[2][8],
        "20,00",
        "2,50",
    ]
    by_regie = rows.index(["Totaux par régie"])
    assert rows[by_regie + 1] == [
        "Régie",
        "Paiements",
        "Encaissé (€)",
        "Remboursements (€)",
        "Net (€)",
    ]
    assert rows[by_regie + 2 : by_regie + 6] == [
        ["Régie de la médiathèque", "2", "32,00", "2,50", "29,50"],
        ["Régie des piscines", "1", "4,50", "0,00", "4,50"],
        ["Régie porte-monnaie", "1", "10,50", "0,00", "10,50"],
        ["Total", "3", "47,00", "2,50", "44,50"],  # 3 payments,
    ]
    pdf = client.get(url, {**query, "format": "pdf"})
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    for words in ("Totaux par régie", "Régie de la médiathèque", "29,50", "44,50", "Encaissé"):
        assert words in text
    del client.cookies[settings.LANGUAGE_COOKIE_NAME]  # the site's own language
    page = client.get(url, query).content.decode()
    for words in ("Totaux par régie", "Encaissé", "Accueil — chèques", "29,50\xa0€"):
        assert words in page


def test_the_demo_page_is_gone_once_stripe_is_configured(settings):
    Recorder()
    resident = ResidentFactory()
    payment, _ = start_payment(order=order_for(resident, 1000), provider="demo", return_url="/")
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    client = logged_in(resident.user)
    url = reverse("payments:demo_checkout", args=[payment.public_id])
    assert client.post(url, {"outcome": "pay"}).status_code == 404
    payment.refresh_from_db()
    assert payment.status == "pending"


def test_a_production_without_stripe_keys_is_warned(settings):
    from payments.apps import demo_provider_in_production

    settings.DEBUG = False
    settings.STRIPE_SECRET_KEY = ""
    assert [w.id for w in demo_provider_in_production(None)] == ["payments.W001"]
    settings.STRIPE_SECRET_KEY = "sk_live_x"
    assert demo_provider_in_production(None) == []
