"""The clerks' verification queue: a proof a resident sent (proof of address, CAF
certificate, tax notice, family record book) is verified or rejected with a reason.

Verifying changes what the territory trusts (identity.trust): a proof of address makes the
household resident from the proof's date, a CAF certificate or a tax notice records the family
quotient read on it as verified, a family record book confirms the members it lists. A verified
replacement becomes the document's content and the version it replaces is shredded; a rejected
replacement is shredded and the verified version stays. Either way the document leaves the
queue (its verification share is closed) and the resident sees the decision and its reason."""

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from identity import trust
from identity.actions.audit import record_audit_entry
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import AuditEntry, Person, User
from identity.permissions import can_manage_household, can_verify_documents
from identity.tasks import send_email

from .. import queries
from ..models import Document, DocumentEvent, DocumentKind, DocumentVersion, Share
from . import files, sharing

State = DocumentVersion.State
Verification = DocumentVersion.Verification
MAX_REASON = 300


@dataclass(frozen=True)
class Findings:
    """What the clerk read on the proof (the fields its kind needs)."""

    proof_date: date | None = None  # proof of address
    quotient_amount: int | None = None  # CAF certificate, tax notice
    quotient_from: date | None = None
    quotient_until: date | None = None
    member_ids: list[str] = field(default_factory=list)  # family record book


def _locked_waiting(version_public_id: str) -> tuple[Document, DocumentVersion]:
    version = (
        DocumentVersion.objects.select_related("document")
        .filter(public_id=version_public_id)
        .first()
    )
    if version is None:
        raise Conflict(_("This document is no longer waiting for verification."))
    document = Document.objects.select_for_update().get(pk=version.document_id)
    version = DocumentVersion.objects.get(pk=version.pk)
    if (
        document.is_deleted
        or version.state == State.SHREDDED
        or version.verification != Verification.PENDING
    ):
        raise Conflict(
            _("This document is no longer waiting for verification (decided or replaced).")
        )
    return document, version


def _require_verifier(actor: User, document: Document) -> None:
    if not can_verify_documents(actor):
        raise Forbidden(_("Only a town-hall clerk verifies documents."))
    if can_manage_household(actor, document.household):
        raise Forbidden(_("You cannot verify your own household's documents."))


def _apply(actor: User, document: Document, findings: Findings, evidence: str) -> None:
    household = document.household
    if document.kind == DocumentKind.PROOF_OF_ADDRESS:
        if findings.proof_date is None:
            raise DomainError(_("Give the date printed on the proof."), field="proof_date")
        trust.verify_residency(
            actor=actor, household=household, proof_date=findings.proof_date, evidence=evidence
        )
    elif document.kind in (DocumentKind.CAF_CERTIFICATE, DocumentKind.TAX_NOTICE):
        if findings.quotient_amount is None:
            raise DomainError(
                _("Give the family quotient read on the document."), field="quotient_amount"
            )
        if findings.quotient_from is None or findings.quotient_until is None:
            raise DomainError(
                _("Give the period the family quotient covers."), field="quotient_from"
            )
        trust.record_verified_quotient(
            actor=actor,
            household=household,
            amount=findings.quotient_amount,
            valid_from=findings.quotient_from,
            valid_until=findings.quotient_until,
            evidence=evidence,
        )
    elif document.kind == DocumentKind.FAMILY_RECORD_BOOK:
        members = list(
            Person.objects.filter(household=household, public_id__in=findings.member_ids)
        )
        if not members:
            raise DomainError(
                _("Tick the members the family record book lists."), field="member_ids"
            )
        trust.confirm_members(actor=actor, household=household, members=members, evidence=evidence)


def _accept_replacement(document: Document, version: DocumentVersion, actor: User) -> None:
    """A replacement that waited for the clerk becomes the document's content."""
    if version.state != State.PENDING:
        return
    current = document.versions.filter(state=State.CURRENT).first()
    if current is not None:
        files.shred(current)
    version.state = State.CURRENT
    version.save(update_fields=["state"])
    files.log_event(
        document,
        DocumentEvent.Action.REPLACEMENT_ACCEPTED,
        actor=actor,
        version=version,
        channel=AuditEntry.Channel.COUNTER,
    )


def _decide(version: DocumentVersion, actor: User, outcome: str, *, reason: str = "") -> None:
    version.verification = outcome
    version.decided_at = timezone.now()
    version.decided_by = actor
    version.rejection_reason = reason
    version.save(update_fields=["verification", "decided_at", "decided_by", "rejection_reason"])


def _close_queue_share(document: Document, actor: User) -> None:
    share = queries.open_verification_share(document)
    if share is not None:
        sharing.close_share(
            share,
            reason=Share.CloseReason.FILE_CLOSED,
            actor=actor,
            channel=AuditEntry.Channel.COUNTER,
        )


@transaction.atomic
def verify(*, actor: User, version_public_id: str, findings: Findings) -> DocumentVersion:
    """The clerk checked the proof: it is verified and its facts are trusted from now on."""
    document, version = _locked_waiting(version_public_id)
    _require_verifier(actor, document)
    _apply(actor, document, findings, evidence=f"vault:{document.public_id}")
    _decide(version, actor, Verification.VERIFIED)
    _accept_replacement(document, version, actor)
    files.log_event(
        document,
        DocumentEvent.Action.VERIFIED,
        actor=actor,
        version=version,
        channel=AuditEntry.Channel.COUNTER,
    )
    _close_queue_share(document, actor)
    record_audit_entry(
        actor=actor,
        action="staff.document_verified",
        person=document.person,
        target=document.get_kind_display()[:120],  # in words, as staff.document_read
        channel=AuditEntry.Channel.COUNTER,
    )
    return version


@transaction.atomic
def reject(*, actor: User, version_public_id: str, reason: str) -> DocumentVersion:
    """The clerk refuses the proof, saying why (the resident reads it and may send another)."""
    document, version = _locked_waiting(version_public_id)
    _require_verifier(actor, document)
    reason = " ".join(reason.split())
    if not reason:
        raise DomainError(_("Say why the document is rejected."), field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(
            _("Keep the reason under %(max)s characters.") % {"max": MAX_REASON}, field="reason"
        )
    _decide(version, actor, Verification.REJECTED, reason=reason)
    files.log_event(
        document,
        DocumentEvent.Action.REJECTED,
        actor=actor,
        version=version,
        reason=reason,
        channel=AuditEntry.Channel.COUNTER,
    )
    if version.state == State.PENDING:
        # The verified version it would have replaced stays the document's content.
        files.shred(version)
    _close_queue_share(document, actor)
    record_audit_entry(
        actor=actor,
        action="staff.document_rejected",
        person=document.person,
        target=document.get_kind_display()[:120],  # in words, as staff.document_read
        reason=reason[:200],
        channel=AuditEntry.Channel.COUNTER,
    )
    _mail_rejection(document, reason)
    return version


def _mail_rejection(document: Document, reason: str) -> None:
    recipients = queries.household_emails(document.household)
    if not recipients:
        return
    subject = _("Your document was not accepted")
    body = _(
        "The town hall could not accept the %(kind)s of %(name)s you sent: %(reason)s\n\n"
        "You can send another one from My documents."
    ) % {
        "kind": document.get_kind_display().lower(),
        "name": document.person.first_name,
        "reason": reason,
    }
    transaction.on_commit(
        lambda: send_email.enqueue(subject=str(subject), body=str(body), to=recipients)
    )
