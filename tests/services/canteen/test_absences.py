"""Justified absences: after the deadline a parent reports a booked day with a medical
certificate from the safe; a clerk accepts or refuses it (audited, the parent told). Accepted
before the month is billed, the day is not billed; accepted after its invoice was issued, a
credit note naming that invoice credits the day's price to the payer's wallet (the invoice
never changes). Refused, the booked meal is billed."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from pypdf import PdfReader

from documents_vault.models import Share
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import AuditEntry, StaffRole
from identity.notifications.models import Notification
from payments import queries as payment_queries
from payments.models import Document
from payments.pdf import document_pdf
from services.canteen import absences, actions, billing
from services.canteen.models import AbsenceReport, Booking
from tests.documents_vault.factories import pdf_bytes
from tests.factories import staff_user
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch
from tests.services.canteen.test_billing import priced

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 12, 3)  # a Thursday; deadline Wednesday 2 December 15:00
AFTER_DEADLINE = datetime(2026, 12, 3, 8, tzinfo=PARIS)
JANUARY = datetime(2027, 1, 4, 9, tzinfo=PARIS)


@pytest.fixture
def booked():
    with time_machine.travel(datetime(2026, 11, 30, 10, tzinfo=PARIS), tick=False):
        site = canteen_site()
        service = lunch(site, product=priced("Repas", 350))
        guardian, child = enrolled_child(site)
        actions.book_days(
            actor=guardian.user,
            child=child,
            service=service,
            days=[DAY, date(2026, 12, 4)],
            key="k",
        )
    return guardian, Booking.objects.get(child=child, day=DAY)


def report(guardian, booking):
    with time_machine.travel(AFTER_DEADLINE):
        return absences.report_absence(
            actor=guardian.user, booking=booking, file_name="certificat.pdf", content=pdf_bytes()
        )


@pytest.fixture
def clerk():
    return staff_user(StaffRole.Role.CLERK)


def test_before_the_deadline_the_day_is_cancelled_not_justified(booked):
    guardian, booking = booked
    before = datetime(2026, 12, 2, 14, 59, tzinfo=PARIS)
    with time_machine.travel(before), pytest.raises(DomainError) as refused:
        absences.report_absence(
            actor=guardian.user, booking=booking, file_name="c.pdf", content=pdf_bytes()
        )
    assert refused.value.code == "before_deadline"
    assert not AbsenceReport.objects.exists()


def test_a_report_goes_into_the_safe_and_is_shared_with_the_clerks(booked):
    guardian, booking = booked
    absence = report(guardian, booking)
    assert absence.document.kind == "medical_certificate"
    assert absence.document.household_id == guardian.household_id  # in the household's safe
    share = Share.objects.get(document=absence.document)
    assert (share.target_kind, share.target_id) == ("canteen_absence", absence.public_id)
    assert AuditEntry.objects.filter(action="canteen.absence_reported").exists()
    with pytest.raises(Conflict):
        report(guardian, booking)  # once


def test_only_the_childs_guardian_reports(booked):
    _guardian, booking = booked
    stranger, _child = enrolled_child(booking.service.site)
    with pytest.raises(Forbidden):
        report(stranger, booking)


def test_accepted_before_billing_the_day_is_not_billed(booked, clerk):
    guardian, booking = booked
    absence = report(guardian, booking)
    absences.decide_absence(actor=clerk, report=absence, accept=True)
    with time_machine.travel(JANUARY):
        order = billing.bill_month(
            actor=staff_user(StaffRole.Role.FINANCE_OFFICER),
            household=guardian.household,
            year=2026,
            month=12,
        )
    line = order.lines.get()
    assert line.payload["days"] == ["2026-12-04"]  # the 3rd is not billed
    assert order.total_cents == 350
    assert not Document.objects.filter(kind="credit").exists()
    assert Share.objects.get(document=absence.document).closed_at is not None  # file closed
    told = Notification.objects.get(topic="canteen.absence_decided")
    assert "acceptée" in told.body
    assert AuditEntry.objects.filter(action="canteen.absence_accepted").exists()


def test_accepted_after_the_invoice_a_credit_note_names_it_and_credits_the_wallet(booked, clerk):
    guardian, booking = booked
    absence = report(guardian, booking)
    with time_machine.travel(JANUARY):
        order = billing.bill_month(
            actor=staff_user(StaffRole.Role.FINANCE_OFFICER),
            household=guardian.household,
            year=2026,
            month=12,
        )
        invoice = order.documents.get(kind="invoice")
        absence = absences.decide_absence(actor=clerk, report=absence, accept=True)
    credit = Document.objects.get(kind="credit")
    assert absence.credit_note == credit.reference == "CANTINE-2027-A000001"
    assert credit.content["invoice"] == invoice.reference
    assert credit.amount_cents == 350
    assert payment_queries.wallet_balance(guardian.pk) == 350
    invoice.refresh_from_db()
    assert invoice.amount_cents == 700  # the invoice never changes
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(document_pdf(credit))).pages)
    assert f"Avoir sur la facture N° {invoice.reference}" in text
    assert "3 décembre 2026" in text
    assert (
        "L’avoir CANTINE-2027-A000001"
        in Notification.objects.get(topic="canteen.absence_decided").body
    )


def test_refused_the_meal_is_billed_and_the_parent_reads_why(booked, clerk):
    guardian, booking = booked
    absence = report(guardian, booking)
    with pytest.raises(DomainError) as no_reason:
        absences.decide_absence(actor=clerk, report=absence, accept=False)
    assert no_reason.value.field == "reason"
    absences.decide_absence(
        actor=clerk, report=absence, accept=False, reason="Certificat illisible"
    )
    with pytest.raises(Conflict):
        absences.decide_absence(actor=clerk, report=absence, accept=True)  # decided once
    with time_machine.travel(JANUARY):
        order = billing.bill_month(
            actor=staff_user(StaffRole.Role.FINANCE_OFFICER),
            household=guardian.household,
            year=2026,
            month=12,
        )
    assert order.total_cents == 700
    assert "Certificat illisible" in Notification.objects.get(topic="canteen.absence_decided").body
    assert AuditEntry.objects.filter(action="canteen.absence_refused").exists()


def test_only_clerks_decide(booked):
    guardian, booking = booked
    absence = report(guardian, booking)
    with pytest.raises(Forbidden):
        absences.decide_absence(
            actor=staff_user(StaffRole.Role.CANTEEN_AGENT), report=absence, accept=True
        )
