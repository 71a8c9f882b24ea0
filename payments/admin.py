"""Administrators set up the régies; money itself is never edited here (read-only views)."""

from django.contrib import admin

from identity.admin import ReadOnlyAdmin

from .models import Document, LedgerTransaction, ProviderPayout, Regie


@admin.register(Regie)
class RegieAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "siret", "holds_wallets"]


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
