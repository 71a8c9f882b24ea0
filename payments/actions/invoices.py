"""Invoices issued before any payment (a monthly bill: the canteen's), and corrections of an
issued invoice as credit notes credited to the payer's wallet.

An invoice of an order awaiting payment is numbered when it is issued, from the régie's
gapless sequence (`documents.issue_document`); the payment later issues only its receipt,
which names that invoice. An issued invoice never changes: a correction is a credit note
(*avoir*, its own sequence per régie, prefix A) that names the invoice it corrects and credits
its amount to the payer's wallet, whether the invoice is paid yet or not — an *avoir à valoir*
on any later payment (the wallet pays invoices, bookings and entries), one rule for both
cases, and the amount due of the issued invoice stays the amount printed on it."""

import logging
from collections import defaultdict

from django.db import transaction
from django.utils.translation import gettext as _

from identity.errors import Conflict, DomainError
from payments import ledger, queries
from payments.models import Document, LedgerAccount, LedgerTransaction, Order, OrderLine, Regie
from payments.money import format_cents

from .documents import _line_block, _recipient, _regie_block, issue_document

logger = logging.getLogger(__name__)


def issue_invoices(order: Order) -> list[Document]:
    """The invoices of an order awaiting payment, one per régie of its lines, numbered now;
    the ones already issued when called again (also when two calls meet: the order row is
    locked while the question "issued yet?" is answered and the invoices are written)."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        issued = queries.invoices_of_order(locked)
        if issued:
            return issued
        if locked.status != Order.Status.PENDING:
            raise Conflict(_("This order is not awaiting payment."), code="order_not_payable")
        by_regie: dict[Regie, list[OrderLine]] = defaultdict(list)
        for line in locked.lines.select_related("regie", "beneficiary").order_by("pk"):
            by_regie[line.regie].append(line)
        documents = []
        for regie, lines in sorted(by_regie.items(), key=lambda item: item[0].pk):
            total = sum(line.total_cents for line in lines)
            documents.append(
                issue_document(
                    kind=Document.Kind.INVOICE,
                    regie=regie,
                    order=locked,
                    amount_cents=total,
                    content={
                        "regie": _regie_block(regie),
                        "recipient": _recipient(locked),
                        "order": locked.public_id,
                        "lines": [_line_block(line) for line in lines],
                        "total_cents": total,
                        "due": True,  # issued before payment: the PDF says "to pay"
                    },
                )
            )
    logger.info("invoices issued order=%s count=%s", order.pk, len(documents))
    return documents


def credit_note_to_wallet(
    *, line: OrderLine, amount_cents: int, reason: str, idempotency_key: str
) -> Document:
    """A credit note of `amount_cents` on an invoiced line, credited to the order's payer's
    wallet (from the régie's refunds account), in the caller's transaction or its own. The
    same `idempotency_key` returns the first credit note. Refused beyond what is left of the
    line (what earlier credit notes or refunds gave back)."""
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        raise DomainError(_("Enter an amount greater than zero."), field="amount_cents")
    with transaction.atomic():
        existing = LedgerTransaction.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return Document.objects.get(
                kind=Document.Kind.CREDIT_NOTE, content__ledger=existing.public_id
            )
        locked = (
            OrderLine.objects.select_for_update().select_related("order", "regie").get(pk=line.pk)
        )
        order = locked.order
        invoice = (queries.invoices_of_order(order, regie=locked.regie)[:1] or [None])[0]
        if invoice is None:
            raise Conflict(_("This line has no invoice to correct."), code="not_invoiced")
        if order.payer_id is None:
            raise DomainError(_("This order has no payer with a wallet."), field="line")
        if amount_cents > locked.refundable_cents:
            raise Conflict(
                _("At most %(amount)s can still be credited on this line.")
                % {"amount": format_cents(locked.refundable_cents)},
                code="too_much",
            )
        txn = ledger.post(
            kind=LedgerTransaction.Kind.ADJUSTMENT,
            entries=[
                (ledger.regie_account(LedgerAccount.Kind.REFUNDS, locked.regie), amount_cents),
                (ledger.wallet_account(order.payer_id), -amount_cents),
            ],
            order=order,
            regie=locked.regie,
            idempotency_key=idempotency_key,
            description=f"credit note on order {order.public_id}",
        )
        locked.refunded_cents += amount_cents
        locked.save(update_fields=["refunded_cents"])
        document = issue_document(
            kind=Document.Kind.CREDIT_NOTE,
            regie=locked.regie,
            order=order,
            amount_cents=amount_cents,
            content={
                "regie": _regie_block(locked.regie),
                "recipient": _recipient(order),
                "order": order.public_id,
                "invoice": invoice.reference,
                "lines": [
                    {
                        **_line_block(locked),
                        "quantity": 1,
                        "unit_price_cents": amount_cents,
                        "total_cents": amount_cents,
                    }
                ],
                "total_cents": amount_cents,
                "refund": {"destination": "wallet", "reason": reason[:300]},
                "ledger": txn.public_id,
            },
        )
    logger.info("credit note order=%s line=%s", order.pk, line.pk)
    return document
