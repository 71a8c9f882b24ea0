"""Invoices and receipts: a gapless number per régie and year, the legal mentions of a French
public invoice in the PDF, mailed to the buyer."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction
from pypdf import PdfReader

from payments.actions import documents
from payments.actions.checkout import start_payment
from payments.actions.orders import LineInput, create_order
from payments.actions.provider_events import record_payment_succeeded
from payments.models import Document
from payments.pdf import document_pdf
from tests.concurrency import line_up, run_at_once
from tests.factories import ResidentFactory
from tests.payments.factories import Recorder, RegieFactory, order_for, pay

PARIS = ZoneInfo("Europe/Paris")


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.django_db
def test_numbers_follow_each_other_per_regie_kind_and_year():
    Recorder()
    pool, canteen = RegieFactory(code="piscine"), RegieFactory(code="cantine")
    resident = ResidentFactory()
    with time_machine.travel(datetime(2026, 12, 31, 23, 30, tzinfo=PARIS)):
        pay(order_for(resident, 1000, regie=pool))
        pay(order_for(resident, 1000, regie=pool))
        pay(order_for(resident, 500, regie=canteen))
    with time_machine.travel(datetime(2027, 1, 1, 0, 30, tzinfo=PARIS)):
        pay(order_for(resident, 1000, regie=pool))
    receipts = Document.objects.filter(kind="receipt").order_by("pk")
    assert [d.reference for d in receipts] == [
        "PISCINE-2026-R000001",
        "PISCINE-2026-R000002",
        "CANTINE-2026-R000001",
        "PISCINE-2027-R000001",
    ]
    assert Document.objects.filter(kind="invoice", regie=pool, year=2026).count() == 2


@pytest.mark.django_db
def test_a_basket_of_two_regies_gets_a_document_per_regie(django_capture_on_commit_callbacks):
    Recorder()
    resident = ResidentFactory()
    pool, canteen = RegieFactory(code="piscine"), RegieFactory(code="cantine")
    order = create_order(
        buyer=resident.user,
        payer=resident,
        lines=[
            LineInput(
                regie=canteen,
                label="Cantine novembre",
                handler="test.thing",
                unit_price_cents=4520,
                explanation="QF 2",
            ),
            LineInput(
                regie=pool,
                label="Carnet 10 entrées piscine",
                handler="test.thing",
                unit_price_cents=3200,
                explanation="Tarif résident, enfant, QF 1",
            ),
        ],
    )
    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(order)
    receipts = payment.documents.filter(kind="receipt")
    assert {d.regie.code: d.amount_cents for d in receipts} == {"piscine": 3200, "cantine": 4520}
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [resident.user.email]
    assert sorted(name for name, _data, _type in message.attachments) == sorted(
        f"{d.reference}.pdf" for d in receipts
    )


@pytest.mark.django_db
def test_the_receipt_pdf_carries_the_legal_mentions():
    Recorder()
    resident = ResidentFactory(first_name="Camille", last_name="Martin")
    regie = RegieFactory(
        code="piscine",
        name="Régie des piscines",
        siret="20002451400017",
        regisseur_name="Jeanne Régisseuse",
    )
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=PARIS)):
        payment = pay(order_for(resident, 3250, regie=regie))
    receipt = payment.documents.get(kind="receipt")
    invoice = payment.documents.get(kind="invoice")
    text = pdf_text(document_pdf(receipt))
    for expected in [
        "Communauté d'agglomération du Grand Cahors",
        "Régie des piscines",
        "72 rue Wilson",
        "46000 Cahors",
        "SIRET : 20002451400017",
        "REÇU DE PAIEMENT N° PISCINE-2026-R000001",
        "Date d'émission : 20/11/2026",
        "Camille Martin",
        "Article 0",
        "Tarif résident",
        "32,50",
        "TVA non applicable, article 293 B du CGI",
        "Mode de paiement : Carte bancaire (Démo, aucun paiement réel)",
        "Le régisseur : Jeanne Régisseuse",
        f"Facture acquittée : {invoice.reference}",
    ]:
        assert expected in text, expected
    invoice_text = pdf_text(document_pdf(invoice))
    assert "FACTURE N° PISCINE-2026-F000001" in invoice_text
    assert "Facture acquittée le 20/11/2026" in invoice_text


@pytest.mark.django_db
def test_documents_are_frozen():
    Recorder()
    regie = RegieFactory(code="piscine", name="Régie des piscines")
    receipt = pay(order_for(ResidentFactory(), 1000, regie=regie)).documents.get(kind="receipt")
    regie.name = "Nouveau nom"
    regie.save()
    receipt.refresh_from_db()
    assert "Régie des piscines" in pdf_text(document_pdf(receipt))
    with pytest.raises(ValueError, match="append-only"):
        receipt.save()


@pytest.fixture
def five_payments_of_one_regie():
    """Five payments of one régie about to succeed (a sixth paid before: the sequence rows
    exist before the race)."""
    Recorder()
    regie = RegieFactory(code="piscine")
    resident = ResidentFactory()
    payments = []
    for n in range(6):
        payment, _ = start_payment(
            order=order_for(resident, 1000 + n, regie=regie), provider="demo", return_url="/"
        )
        payments.append(payment)
    pay_now(payments[0])
    return regie, payments[1:]


class InvoiceSequence:
    """Where each payment takes its invoice's number (its receipt's comes after, not lined up:
    each payment meets the others once)."""

    locked = staticmethod(documents._locked_sequence)


def invoice_numbers_lined_up(monkeypatch, *, lock: bool) -> None:
    """The five payments lined up once they have read the last invoice number."""
    line_up(monkeypatch, InvoiceSequence, "locked", lock=lock, parties=5)
    receipts = documents._locked_sequence

    def locked_sequence(regie, kind, year):
        sequence = InvoiceSequence.locked if kind == Document.Kind.INVOICE else receipts
        return sequence(regie, kind, year)

    monkeypatch.setattr(documents, "_locked_sequence", locked_sequence)


def pay_at_once(payments):
    """All five succeed at once, the third rolled back after taking its numbers."""

    def paying(payment, fail):
        def call():
            try:
                with transaction.atomic():
                    pay_now(payment)
                    if fail:
                        raise RuntimeError("rolled back after taking its numbers")
            except RuntimeError:
                return "rolled back"
            return "ok"

        return call

    return run_at_once(*(paying(p, fail=(i == 2)) for i, p in enumerate(payments)))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_without_the_lock_concurrent_payments_take_the_same_number(
    five_payments_of_one_regie, monkeypatch
):
    """Each payment has read the last invoice number before any takes the next: they all
    take the same one, number 2, which the documents' unique reference refuses to all but one
    (failed payments)."""
    _regie, payments = five_payments_of_one_regie
    invoice_numbers_lined_up(monkeypatch, lock=False)
    outcome = pay_at_once(payments)
    assert outcome.errors  # the race
    for error in outcome.errors:
        assert isinstance(error, IntegrityError)
        assert "F000002) already exists" in str(error)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_payments_never_skip_or_repeat_a_number(five_payments_of_one_regie, monkeypatch):
    """Five payments of one régie at once, one of them rolled back after taking its numbers:
    the receipts are numbered 1 to 5 (the first one paid before), each once, no gap."""
    regie, payments = five_payments_of_one_regie
    invoice_numbers_lined_up(monkeypatch, lock=True)
    outcome = pay_at_once(payments)
    assert outcome.errors == []
    assert sorted(outcome.answers) == ["ok", "ok", "ok", "ok", "rolled back"]
    for kind in ("receipt", "invoice"):
        numbers = sorted(
            Document.objects.filter(regie=regie, kind=kind).values_list("number", flat=True)
        )
        assert numbers == [1, 2, 3, 4, 5]


def pay_now(payment):
    record_payment_succeeded(
        provider="demo",
        provider_reference=payment.provider_reference,
        amount_cents=payment.amount_cents,
        currency="EUR",
    )
