"""Invoices, receipts, credit notes and the daily reconciliation as PDF (reportlab).

A document is drawn from the content frozen when it was issued (`Document.content`), so the
PDF of an old receipt never changes when a régie moves or a label is renamed. Documents are
in French: they are the régie's legal documents, whatever the reader's language. The fonts are
the Bitstream Vera ones shipped with reportlab (accents print right, same output everywhere)."""

import io
from datetime import datetime

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from identity.pdf import FONT, FONT_BOLD, register_fonts

from .labels import in_french, method_label, provider_label
from .models import Document
from .money import format_cents
from .queries import RECONCILIATION_LABELS, Reconciliation

BRAND = colors.HexColor("#003d7a")
MUTED = colors.HexColor("#444444")
MARGIN = 18 * mm

DESTINATIONS = {
    "card": "sur la carte bancaire",
    "wallet": "sur le porte-monnaie",
    "cash": "en espèces au guichet",
}

TITLES = {
    Document.Kind.INVOICE: "FACTURE",
    Document.Kind.RECEIPT: "REÇU DE PAIEMENT",
    Document.Kind.CREDIT_NOTE: "AVOIR (REMBOURSEMENT)",
}


def _french_date(value: datetime) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y")


class _Writer:
    """A top-down text cursor on an A4 canvas that starts a new page when it runs out."""

    def __init__(self, pdf: canvas.Canvas):
        self.pdf = pdf
        self.width, self.height = A4
        self.y = self.height - MARGIN

    def need(self, space: float) -> None:
        if self.y - space < MARGIN:
            self.pdf.showPage()
            self.y = self.height - MARGIN

    def line(
        self,
        text: str,
        *,
        size: float = 9.5,
        bold: bool = False,
        x: float = MARGIN,
        color=colors.black,
        step: float | None = None,
    ) -> None:
        self.need(size * 1.5)
        self.pdf.setFillColor(color)
        self.pdf.setFont(FONT_BOLD if bold else FONT, size)
        self.pdf.drawString(x, self.y, text)
        self.y -= step if step is not None else size * 1.45

    def right(self, text: str, x: float, *, size: float = 9.5, bold: bool = False) -> None:
        self.pdf.setFont(FONT_BOLD if bold else FONT, size)
        self.pdf.drawRightString(x, self.y, text)

    def gap(self, space: float = 4 * mm) -> None:
        self.y -= space

    def rule(self) -> None:
        self.pdf.setStrokeColor(MUTED)
        self.pdf.setLineWidth(0.5)
        self.pdf.line(MARGIN, self.y + 3, self.width - MARGIN, self.y + 3)
        self.y -= 3 * mm


def document_pdf(document: Document) -> bytes:
    """The PDF of an invoice, a receipt or a credit note, with the mentions a French public
    invoice carries: the public body and its régie, address, SIRET, number and date, the
    lines, the amounts, the VAT mention, the means of payment and the régisseur."""
    register_fonts()
    content = document.content
    regie = content["regie"]
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"{TITLES[document.kind].capitalize()} {document.reference}")
    pdf.setAuthor(regie["name"])
    w = _Writer(pdf)
    right_edge = w.width - MARGIN

    w.line(regie["collectivite"], size=12, bold=True, color=BRAND)
    w.line(regie["name"], size=10.5, bold=True)
    for part in regie["address"].splitlines():
        w.line(part)
    w.line(f"SIRET : {regie['siret']}")
    if regie.get("email"):
        w.line(f"Courriel : {regie['email']}")
    w.gap()

    w.line(f"{TITLES[document.kind]} N° {document.reference}", size=14, bold=True, color=BRAND)
    w.line(f"Date d'émission : {_french_date(document.issued_at)}")
    w.line(f"Commande : {content['order']}")
    if content.get("invoice") and document.kind == Document.Kind.CREDIT_NOTE:
        # An avoir names the invoice it corrects (the invoice itself never changes).
        w.line(f"Avoir sur la facture N° {content['invoice']}", bold=True)
    elif content.get("invoice"):
        w.line(f"Facture acquittée : {content['invoice']}")
    w.gap()

    recipient = content.get("recipient") or {}
    if recipient.get("name"):
        w.line("Destinataire", bold=True)
        w.line(recipient["name"])
        for part in (recipient.get("address") or "").splitlines():
            w.line(part)
        w.gap()

    # The lines.
    w.need(12 * mm)
    columns = (right_edge - 70 * mm, right_edge - 42 * mm, right_edge)
    w.line("Désignation", bold=True, step=0)
    w.right("Qté", columns[0], bold=True)
    w.right("Prix unitaire", columns[1], bold=True)
    w.right("Montant", columns[2], bold=True)
    w.y -= 5 * mm
    w.rule()
    for item in content["lines"]:
        label = item["label"]
        if item.get("beneficiary"):
            label = f"{label} ({item['beneficiary']})"
        w.line(label[:70], step=0)
        w.right(str(item["quantity"]), columns[0])
        w.right(format_cents(item["unit_price_cents"]), columns[1])
        w.right(format_cents(item["total_cents"]), columns[2])
        w.y -= 4.5 * mm
        if item.get("explanation"):
            w.line(item["explanation"][:90], size=8, color=MUTED)
    w.rule()
    label = {
        Document.Kind.INVOICE: "Total à payer",
        Document.Kind.RECEIPT: "Total réglé",
        Document.Kind.CREDIT_NOTE: "Total remboursé",
    }[document.kind]
    w.line(f"{label} (net, en euros)", bold=True, step=0)
    w.right(format_cents(document.amount_cents), columns[2], bold=True)
    w.y -= 6 * mm
    w.line(regie["vat_mention"], size=9)
    w.gap()

    payment = content.get("payment") or {}
    due = document.kind == Document.Kind.INVOICE and content.get("due")
    if due:
        # Issued before any payment (a monthly bill): its receipt will name it once paid.
        w.line("Facture à régler :", bold=True)
        w.line("en ligne dans Mon espace (carte ou porte-monnaie), ou au guichet de la régie.")
    elif document.kind == Document.Kind.INVOICE:
        w.line(f"Facture acquittée le {_french_date(document.issued_at)}.", bold=True)
    if document.kind == Document.Kind.CREDIT_NOTE:
        refund = content.get("refund") or {}
        destination = refund.get("destination", "")
        w.line(f"Remboursement {DESTINATIONS.get(destination, destination)}", bold=True)
        if refund.get("reason"):
            w.line(f"Motif : {refund['reason'][:90]}")
    elif not due:
        with in_french():
            method = method_label(payment.get("method", ""))
            provider = provider_label(payment.get("provider", ""))
        w.line(f"Mode de paiement : {method} ({provider})")
    if payment.get("reference"):
        w.line(f"Référence du paiement : {payment['reference']}")
    if document.kind == Document.Kind.RECEIPT:
        w.line(
            f"Reçu la somme de {format_cents(document.amount_cents)} "
            f"le {_french_date(datetime.fromisoformat(payment['at']))}.",
            bold=True,
        )
    w.gap()
    if regie.get("regisseur"):
        w.line(f"Le régisseur : {regie['regisseur']}")
    for part in (regie.get("legal_mentions") or "").splitlines():
        w.line(part[:110], size=8, color=MUTED)
    w.line(
        "Document émis par la régie pour le compte du comptable public ; "
        "conservez-le comme justificatif.",
        size=8,
        color=MUTED,
    )
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def reconciliation_pdf(report: Reconciliation) -> bytes:
    """The day's reconciliation (`queries.daily_reconciliation`) for the régisseur, in French,
    with the page's and the spreadsheet's words (`queries.RECONCILIATION_LABELS`)."""
    with in_french():
        return _reconciliation_pdf(report, {k: str(v) for k, v in RECONCILIATION_LABELS.items()})


def _reconciliation_pdf(report: Reconciliation, label: dict[str, str]) -> bytes:
    register_fonts()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    day = report.day.strftime("%d/%m/%Y")
    pdf.setTitle(f"Rapprochement du {day}")
    w = _Writer(pdf)
    right_edge = w.width - MARGIN
    amounts = (right_edge - 50 * mm, right_edge - 25 * mm, right_edge)

    def amount_row(text: str, cents: int, *, size: float = 9.5, bold: bool = False) -> None:
        w.line(text, step=0, size=size, bold=bold)
        w.right(format_cents(cents), right_edge, size=size, bold=bold)
        w.y -= 5 * mm if size > 9 else 4 * mm

    w.line(f"Rapprochement journalier du {day}", size=14, bold=True, color=BRAND)
    w.gap()

    w.line(label["by_regie"], size=11, bold=True)
    w.line(label["regies"], bold=True, step=0)
    for x, key in zip(amounts, ("collected", "refunds", "net"), strict=True):
        w.right(label[key], x, bold=True)
    w.y -= 5 * mm
    total = {"name": label["total"], **report.regies_total}
    for regie in [*report.regies, total]:
        bold = regie is total
        w.line(f"{regie['name'][:45]} ({regie['count']})", step=0, bold=bold)
        cents = (regie["collected_cents"], regie["refunds_cents"], regie["net_cents"])
        for x, value in zip(amounts, cents, strict=True):
            w.right(format_cents(value), x, bold=bold)
        w.y -= 5 * mm
    w.gap()

    w.line(label["by_channel"], size=11, bold=True)
    for row in report.totals:
        amount_row(f"{row['label']} ({row['count']})", row["amount_cents"])
    amount_row(label["refunds"], -report.refunds_cents)
    amount_row(label["wallet_spend"], report.wallet_spend_cents)
    w.gap()

    w.line(label["payouts"], size=11, bold=True)
    if not report.payouts:
        w.line("Aucun virement ce jour.")
    for payout in report.payouts:
        check = label["matched"] if payout["matched"] else label["difference"].upper()
        w.line(
            f"{payout['provider_label']} {payout['reference']} : "
            f"{format_cents(payout['amount_cents'])} ({label['fees']} "
            f"{format_cents(payout['fee_cents'])}) — {label['payments_settled']} "
            f"{format_cents(payout['payments_cents'])}, {label['refunds_settled']} "
            f"{format_cents(payout['refunds_cents'])} : {check}",
            size=8,
        )
    for provider, balance in report.clearing.items():
        amount_row(f"{label['clearing']} — {provider_label(provider)}", balance)
    w.gap()

    w.line(label["details"], size=11, bold=True)
    for row in report.rows:
        amount_row(
            f"{row['time']}  {row['channel_label']} — {row['method_label']} — {row['reference']}",
            row["amount_cents"],
            size=8,
        )
        w.line(row["regies"][:110], size=7.5, color=MUTED, x=MARGIN + 10 * mm)
    w.gap()
    balanced = label["yes"] if report.ledger_balanced else label["no"]
    w.line(f"{label['ledger_balanced']} : {balanced}", bold=True)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
