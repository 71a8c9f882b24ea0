"""The receipt email (sent by a task after the payment commits)."""

import logging

from django.core.mail import EmailMessage
from django.utils import translation
from django.utils.translation import gettext as _

from .ledger import format_cents
from .models import Document, Payment
from .pdf import document_pdf

logger = logging.getLogger(__name__)


def recipient_email(payment: Payment) -> str | None:
    order = payment.order
    if order.buyer_id and order.buyer.email:
        return order.buyer.email
    payer = order.payer
    if payer is not None and payer.user_id:
        return payer.user.email
    return None


def send_receipt_email(payment_id: int) -> bool:
    """Mail the receipts (PDF) of a succeeded payment to the buyer. False when there is nobody
    to send them to (a kiosk payment without a login)."""
    payment = Payment.objects.select_related("order", "order__buyer").get(pk=payment_id)
    to = recipient_email(payment)
    receipts = list(payment.documents.filter(kind=Document.Kind.RECEIPT).select_related("regie"))
    if not to or not receipts:
        return False
    with translation.override("fr"):
        subject = _("Your receipt %(reference)s") % {"reference": receipts[0].reference}
        body = _(
            "Hello,\n\nWe have received your payment of %(amount)s. Your receipt is attached; "
            "you will also find it in Mon espace, under My payments.\n\nSésame"
        ) % {"amount": format_cents(payment.amount_cents)}
    message = EmailMessage(subject=f"[Sésame] {subject}", body=body, to=[to])
    for receipt in receipts:
        message.attach(f"{receipt.reference}.pdf", document_pdf(receipt), "application/pdf")
    message.send()
    logger.info("receipt mailed payment=%s", payment.pk)
    return True
