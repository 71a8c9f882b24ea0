"""Justified absences: after the deadline a parent reports a booked day with a medical
certificate from the safe; a clerk accepts or refuses it (audited, the parent told). Accepted,
the day is not billed; if its month's invoice was already issued, a credit note naming that
invoice credits the day's price to the payer's wallet (`payments.actions.invoices`). Refused,
or never reported, the booked meal is billed."""

import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from documents_vault.actions.picking import attach_document
from documents_vault.actions.sharing import FileRef, close_file_shares
from documents_vault.models import DocumentKind
from identity.actions.audit import record_audit_entry
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import AuditEntry, User
from identity.notifications import notify
from identity.permissions import Capability, can_act_for, has_capability
from identity.schooling.calendar import school_calendar
from payments.actions.invoices import credit_note_to_wallet
from payments.models import OrderLine

from . import billing, prepayment, rules
from .models import AbsenceReport, Booking

logger = logging.getLogger(__name__)

FILE_KIND = "canteen_absence"
CERTIFICATE_KINDS = (DocumentKind.MEDICAL_CERTIFICATE,)
REPORTABLE = (Booking.State.BOOKED, Booking.State.ABSENT)


def _file(report: AbsenceReport, booking: Booking) -> FileRef:
    return FileRef(
        kind=FILE_KIND,
        id=report.public_id,
        label=_("Canteen absence of %(name)s on %(day)s")
        % {"name": booking.child.first_name, "day": formats.date_format(booking.day, "j F Y")},
        capability=Capability.HANDLE_PROCEDURES,
    )


def report_absence(
    *,
    actor: User,
    booking: Booking,
    document_id: str | None = None,
    file_name: str = "",
    content: bytes | None = None,
) -> AbsenceReport:
    """A parent (a guardian of the child) reports a booked day after its deadline, with a
    medical certificate picked from the safe (`document_id`) or added to it (`file_name`,
    `content`). Before the deadline the day is simply cancelled, and is refused here."""
    if not can_act_for(actor, booking.child):
        raise Forbidden(_("This child is not in your care."))
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update()
            .select_related("child", "service__site__school")
            .get(pk=booking.pk)
        )
        if booking.state not in REPORTABLE or booking.without_booking:
            raise Conflict(_("Only a booked day can be justified."), code="not_booked")
        if AbsenceReport.objects.filter(booking=booking).exists():
            raise Conflict(_("This absence was already reported."), code="already_reported")
        calendar = school_calendar(booking.service.site.school, booking.day, booking.day)
        if timezone.now() < rules.deadline(booking.service, booking.day, calendar):
            raise DomainError(
                _("The deadline has not passed yet: cancel the day instead, free of charge."),
                field="day",
                code="before_deadline",
            )
        report = AbsenceReport(booking=booking, reported_by=actor)
        share = attach_document(
            actor=actor,
            person=booking.child,
            kinds=CERTIFICATE_KINDS,
            target=_file(report, booking),
            document_id=document_id,
            file_name=file_name,
            content=content,
        )
        report.document = share.document
        report.save()
        record_audit_entry(
            actor=actor,
            action="canteen.absence_reported",
            person=booking.child,
            target=f"absence:{report.public_id}",
        )
    logger.info("canteen absence reported report=%s", report.pk)
    return report


def decide_absence(
    *, actor: User, report: AbsenceReport, accept: bool, reason: str = ""
) -> AbsenceReport:
    """A clerk accepts (the day is not billed, or credited back) or refuses (a reason is
    required: the parent reads it) a reported absence; once."""
    if not has_capability(actor, Capability.HANDLE_PROCEDURES):
        raise Forbidden(_("You cannot decide on canteen absences."))
    reason = reason.strip()
    if not accept and not reason:
        raise DomainError(_("Say why the absence is refused."), field="reason")
    with transaction.atomic():
        report = (
            AbsenceReport.objects.select_for_update()
            .select_related("booking__child", "booking__household", "booking__service")
            .get(pk=report.pk)
        )
        if report.state != AbsenceReport.State.PENDING:
            raise Conflict(_("This absence was already decided."), code="already_decided")
        booking = report.booking
        report.state = AbsenceReport.State.ACCEPTED if accept else AbsenceReport.State.REFUSED
        report.decided_by = actor
        report.decided_at = timezone.now()
        report.refusal_reason = "" if accept else reason[:300]
        # Accepted: a prepaid day goes back to the wallet; a billed one, by a credit note.
        if accept and not prepayment.refund([booking]):
            report.credit_note = _credit_if_invoiced(report, booking)
        report.save()
        close_file_shares(target_kind=FILE_KIND, target_id=report.public_id, actor=actor)
        record_audit_entry(
            actor=actor,
            action="canteen.absence_accepted" if accept else "canteen.absence_refused",
            person=booking.child,
            target=f"absence:{report.public_id}",
            channel=AuditEntry.Channel.COUNTER,
        )
        _tell_parent(report, booking)
    return report


def audit_absence_queue(*, actor: User) -> None:
    """A clerk opened the queue of reported absences (children's names and days)."""
    record_audit_entry(
        actor=actor,
        action="canteen.absence_queue_opened",
        target=FILE_KIND,
        channel=AuditEntry.Channel.COUNTER,
    )


def _credit_if_invoiced(report: AbsenceReport, booking: Booking) -> str:
    """The day's price credited by a credit note when its month was already invoiced (the
    invoice never changes); "" when the month is not billed yet (the day will not be)."""
    order = billing.month_order(booking.household, booking.day.year, booking.day.month)
    if order is None:
        return ""
    day = booking.day.isoformat()
    line = next(
        (
            line
            for line in OrderLine.objects.filter(
                order=order, handler=billing.HANDLER, beneficiary=booking.child
            ).order_by("pk")
            if line.payload.get("service") == booking.service.public_id
            and day in line.payload.get("days", [])
        ),
        None,
    )
    if line is None:  # the day was not on the invoice (closed, or billed elsewhere)
        return ""
    with translation.override(settings.LANGUAGE_CODE):  # data, in the territory's language
        why = _("Justified absence on %(day)s") % {
            "day": formats.date_format(booking.day, "l j F Y")
        }
    document = credit_note_to_wallet(
        line=line,
        amount_cents=line.unit_price_cents,
        reason=why,
        idempotency_key=f"canteen-absence:{report.public_id}",
    )
    return document.reference


def _tell_parent(report: AbsenceReport, booking: Booking) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        day = formats.date_format(booking.day, "l j F Y")
        if report.state == AbsenceReport.State.ACCEPTED:
            subject = _("Absence accepted")
            body = _("The absence of %(name)s on %(day)s is accepted: the meal is not billed.") % {
                "name": booking.child.first_name,
                "day": day,
            }
            if report.credit_note:
                body += " " + _("Credit note %(reference)s credits its price to your wallet.") % {
                    "reference": report.credit_note
                }
        else:
            subject = _("Absence refused")
            body = _(
                "The absence of %(name)s on %(day)s is refused: the meal is billed. "
                "Reason: %(reason)s"
            ) % {"name": booking.child.first_name, "day": day, "reason": report.refusal_reason}
    notify(
        recipient=report.reported_by,
        topic="canteen.absence_decided",
        subject=subject,
        body=body,
        link=reverse("canteen:absences"),
        dedupe_key=f"canteen-absence:{report.public_id}",
    )
