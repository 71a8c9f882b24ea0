"""Staff access to what names a payer: audited against them."""

from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import Forbidden
from identity.models import AccessReason, Person, User
from identity.permissions import Capability, has_capability
from payments.models import Document, Payment, Refund


def _audit_payer_data(*, actor: User, action: str, payer: Person | None, target: str) -> None:
    """Staff saw or acted on what names a payer: audited against them, so that it shows in
    their "who looked at my file"."""
    record_audit_entry(
        actor=actor, action=action, person=payer, target=target, reason=AccessReason.PAYMENT
    )


def _require_payments_view(actor: User) -> None:
    if not has_capability(actor, Capability.VIEW_PAYMENTS):
        raise Forbidden(_("You may not see payments."))


def audit_refund(actor: User, payment: Payment, refund: Refund) -> None:
    _audit_payer_data(
        actor=actor,
        action="payments.refund",
        payer=payment.order.payer,
        target=f"payment:{payment.public_id}",
    )


def open_payment(*, actor: User, payment: Payment) -> Payment:
    """A régisseur opens a payment (the payer's name and orders): audited."""
    _require_payments_view(actor)
    _audit_payer_data(
        actor=actor,
        action="payments.open_payment",
        payer=payment.order.payer,
        target=f"payment:{payment.public_id}",
    )
    return payment


def open_document(*, actor: User, document: Document) -> Document:
    """A régisseur opens an invoice, receipt or credit note (the payer's name and address)."""
    _require_payments_view(actor)
    _audit_payer_data(
        actor=actor,
        action="payments.open_document",
        payer=document.order.payer,
        target=f"document:{document.reference}",
    )
    return document


def audit_payments_listing(*, actor: User, what: str) -> None:
    """Lists of payments show payers' names: each consultation is in the audit trail."""
    _require_payments_view(actor)
    record_audit_entry(actor=actor, action="payments.list", target=what[:120])
