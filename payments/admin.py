"""Administrators set up the régies (through actions.regies, audited; a régie is never deleted:
its documents are numbered in its name); money itself is never edited here (read-only views)."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from identity.admin import ActionModelAdmin, ReadOnlyAdmin, public_identifier, shown_as_code

from .actions.regies import save_regie
from .models import Document, LedgerTransaction, ProviderPayout, Regie


@admin.register(Regie)
class RegieAdmin(ActionModelAdmin):
    list_display = ["code", "name", "siret", "holds_wallets"]
    deletable = False  # its documents and ledger accounts name it for ever

    def save_model(self, request, obj, form, change):
        save_regie(actor=request.user, regie=obj, changed_fields=form.changed_data)

    def save_related(self, request, form, formsets, change):
        """A régie has no inline rows."""


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = [public_identifier, "kind", "at", "about", "provider_reference"]
    list_filter = ["kind"]
    list_select_related = ["order", "refund", "payout"]

    @admin.display(description=_("What"))
    def about(self, txn: LedgerTransaction) -> str:
        """What the movement is about, in words and public references (the stored
        description is the software's note; a wallet spending's is what was bought)."""
        if txn.kind == LedgerTransaction.Kind.WALLET_SPEND:
            return txn.description
        parts = [
            (_("Order"), txn.order.public_id if txn.order_id else ""),
            (_("Refund"), txn.refund.public_id if txn.refund_id else ""),
            (_("Payout"), txn.payout.provider_reference if txn.payout_id else ""),
        ]
        return format_html_join(
            " — ", "{} <code>{}</code>", ((label, ref) for label, ref in parts if ref)
        )

    @admin.display(description=_("provider's reference"), ordering="reference")
    def provider_reference(self, txn: LedgerTransaction) -> str:
        if not txn.reference or txn.kind == LedgerTransaction.Kind.WALLET_SPEND:
            return "—"  # a spending's reference is what was bought, shown beside
        return format_html("<code>{}</code>", txn.reference)


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["reference", "kind", "regie", "amount_cents", "issued_at"]
    list_filter = ["kind", "regie"]
    exclude = ["content"]


@admin.register(ProviderPayout)
class ProviderPayoutAdmin(ReadOnlyAdmin):
    list_display = [
        "provider",
        shown_as_code("provider_reference", _("provider's reference")),
        "amount_cents",
        "arrival_date",
    ]
