"""The emails of the payments floor, sent by tasks after their transaction commits: the receipt
of a payment, and the notice that a paid line could not be delivered and is refunded."""

import logging

from django.core.mail import EmailMessage
from django.utils import translation
from django.utils.translation import gettext as _

from .fulfilment import undeliverable_refund_key
from .models import Document, Order, OrderLine, Payment, Refund
from .money import format_cents
from .pdf import document_pdf

logger = logging.getLogger(__name__)


def recipient_email(payment: Payment) -> str | None:
    return order_recipient_email(payment.order)


def order_recipient_email(order: Order) -> str | None:
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


def send_undeliverable_email(line_id: int) -> bool:
    """Tell the payer that a paid line could not be delivered and how it is refunded (its
    credit note attached once issued). False when there is nobody to write to."""
    line = OrderLine.objects.select_related("order", "order__buyer", "order__payer").get(pk=line_id)
    to = order_recipient_email(line.order)
    if not to:
        return False
    refund = Refund.objects.filter(idempotency_key=undeliverable_refund_key(line.pk)).first()
    credit_notes = (
        list(refund.documents.filter(kind=Document.Kind.CREDIT_NOTE)) if refund is not None else []
    )
    with translation.override("fr"):
        subject = _("We could not deliver your order")
        if refund is None:
            how = _("The régie will contact you to refund it.")
        elif refund.destination == Refund.Destination.CARD:
            how = _("%(amount)s is being refunded to the bank card you paid with.") % {
                "amount": format_cents(refund.amount_cents)
            }
        else:
            how = _("%(amount)s is refunded to your Sésame wallet.") % {
                "amount": format_cents(refund.amount_cents)
            }
        body = _(
            "Hello,\n\nWe are sorry: “%(label)s” could not be delivered (for instance, the "
            "place was no longer available when your payment reached us). %(how)s\n\n"
            "You will find the details in Mon espace, under My payments.\n\nSésame"
        ) % {"label": line.label, "how": how}
    message = EmailMessage(subject=f"[Sésame] {subject}", body=body, to=[to])
    for note in credit_notes:
        message.attach(f"{note.reference}.pdf", document_pdf(note), "application/pdf")
    message.send()
    logger.info(
        "undeliverable notice mailed line=%s refund=%s", line.pk, refund.pk if refund else None
    )
    return True
