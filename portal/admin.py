"""The admin of the portal's own pages: the legal pages of the footer (no add or delete: there
are four, one per kind; saving goes through portal.actions)."""

from django.contrib import admin

from . import actions
from .models import LegalPage


@admin.register(LegalPage)
class LegalPageAdmin(admin.ModelAdmin):
    list_display = ["kind", "updated_at", "updated_by"]
    fields = ["kind", "body", "updated_at", "updated_by"]
    readonly_fields = ["kind", "updated_at", "updated_by"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        saved = actions.update_legal_page(actor=request.user, kind=obj.kind, body=obj.body)
        obj.pk, obj.updated_at, obj.updated_by = saved.pk, saved.updated_at, saved.updated_by
