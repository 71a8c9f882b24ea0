"""Invoices, receipts and credit notes: numbered from a gapless sequence per régie, kind and
year, issued in the transaction of what they document."""

from collections import defaultdict

from django.utils import timezone

from payments.models import Document, DocumentSequence, Order, OrderLine, Payment, Refund, Regie


def _next_number(regie: Regie, kind: str, year: int) -> int:
    """The next number of the sequence, the sequence row locked until the caller commits: two
    documents never get the same number and a rolled-back one gives its number back."""
    sequence = _locked_sequence(regie, kind, year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number


def _locked_sequence(regie: Regie, kind: str, year: int) -> DocumentSequence:
    DocumentSequence.objects.get_or_create(regie=regie, kind=kind, year=year)  # race-safe
    return DocumentSequence.objects.select_for_update().get(regie=regie, kind=kind, year=year)


def issue_document(
    *, kind: str, regie: Regie, order: Order, amount_cents: int, content: dict, **links
) -> Document:
    """A numbered document, in the caller's transaction."""
    now = timezone.now()
    year = timezone.localdate(now).year
    number = _next_number(regie, kind, year)
    return Document.objects.create(
        kind=kind,
        regie=regie,
        year=year,
        number=number,
        reference=f"{regie.code.upper()}-{year}-{Document.PREFIX[kind]}{number:06d}",
        order=order,
        amount_cents=amount_cents,
        issued_at=now,
        content=content,
        **links,
    )


def _regie_block(regie: Regie) -> dict:
    return {
        "name": regie.name,
        "collectivite": regie.collectivite,
        "address": regie.address,
        "siret": regie.siret,
        "email": regie.email,
        "regisseur": regie.regisseur_name,
        "vat_mention": regie.vat_mention,
        "legal_mentions": regie.legal_mentions,
    }


def _recipient(order: Order) -> dict:
    payer = order.payer
    if payer is None:
        return {"name": "", "address": ""}
    address = payer.household.addresses.filter(valid_until__isnull=True).first()
    return {
        "name": payer.full_name,
        "address": (
            f"{address.line1}\n{address.line2 + chr(10) if address.line2 else ''}"
            f"{address.postcode} {address.commune.name}"
            if address
            else ""
        ),
    }


def _line_block(line: OrderLine) -> dict:
    return {
        "label": line.label,
        "explanation": line.explanation,
        "beneficiary": line.beneficiary.first_name if line.beneficiary_id else "",
        "quantity": line.quantity,
        "unit_price_cents": line.unit_price_cents,
        "total_cents": line.total_cents,
    }


def _payment_block(payment: Payment) -> dict:
    return {
        "method": payment.method,
        "provider": payment.provider,
        "reference": payment.public_id,
        "at": (payment.succeeded_at or timezone.now()).isoformat(),
        "channel": payment.order.channel,
    }


def issue_payment_documents(order: Order, payment: Payment, lines: list[OrderLine]) -> None:
    """One invoice (paid) and one receipt per régie of the order, in the payment's
    transaction. Where the invoice was issued before the payment (a monthly bill,
    `invoices.issue_invoices`), it keeps its number and only the receipt is issued, naming
    it."""
    by_regie: dict[Regie, list[OrderLine]] = defaultdict(list)
    for line in lines:
        by_regie[line.regie].append(line)
    issued = {
        document.regie_id: document
        for document in Document.objects.filter(order=order, kind=Document.Kind.INVOICE)
    }
    for regie, regie_lines in sorted(by_regie.items(), key=lambda item: item[0].pk):
        total = sum(line.total_cents for line in regie_lines)
        content = {
            "regie": _regie_block(regie),
            "recipient": _recipient(order),
            "order": order.public_id,
            "lines": [_line_block(line) for line in regie_lines],
            "total_cents": total,
            "payment": _payment_block(payment),
        }
        invoice = issued.get(regie.pk) or issue_document(
            kind=Document.Kind.INVOICE,
            regie=regie,
            order=order,
            payment=payment,
            amount_cents=total,
            content=content,
        )
        issue_document(
            kind=Document.Kind.RECEIPT,
            regie=regie,
            order=order,
            payment=payment,
            amount_cents=total,
            content={**content, "invoice": invoice.reference},
        )


def issue_credit_note(refund: Refund, payment: Payment, allocation: list[tuple]) -> None:
    by_regie: dict[Regie, list] = defaultdict(list)
    for line, share in allocation:
        by_regie[line.regie].append((line, share))
    for regie, shares in sorted(by_regie.items(), key=lambda item: item[0].pk):
        issue_document(
            kind=Document.Kind.CREDIT_NOTE,
            regie=regie,
            order=payment.order,
            payment=payment,
            refund=refund,
            amount_cents=sum(share for _line, share in shares),
            content={
                "regie": _regie_block(regie),
                "recipient": _recipient(payment.order),
                "order": payment.order.public_id,
                "lines": [
                    {
                        **_line_block(line),
                        "total_cents": share,
                        "quantity": 1,
                        "unit_price_cents": share,
                    }
                    for line, share in shares
                ],
                "total_cents": sum(share for _line, share in shares),
                "payment": _payment_block(payment),
                "refund": {
                    "destination": refund.destination,
                    "reason": refund.reason,
                },
            },
        )
