"""Administrators set up the régies (through actions.regies, audited; a régie is never deleted:
its documents are numbered in its name); money itself is never edited here (read-only views)."""

from django.contrib import admin

from identity.admin import ActionModelAdmin, ReadOnlyAdmin

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
    list_display = ["public_id", "kind", "at", "description", "reference"]
    list_filter = ["kind"]


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["reference", "kind", "regie", "amount_cents", "issued_at"]
    list_filter = ["kind", "regie"]
    exclude = ["content"]


@admin.register(ProviderPayout)
class ProviderPayoutAdmin(ReadOnlyAdmin):
    list_display = ["provider", "provider_reference", "amount_cents", "arrival_date"]
