"""Readers in the Django admin (administrators only). Readers are registered, their tokens
rotated and they are revoked through card's reader actions so that tokens are hashed, audited
and dropped from the reader cache at once. A reader is never edited nor deleted (its taps name
it): a reader moved elsewhere is revoked and a new one registered."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from identity.admin import ActionModelAdmin, public_identifier, shown_as_code

from .actions import readers as actions
from .models import Reader


@admin.register(Reader)
class ReaderAdmin(ActionModelAdmin):
    list_display = [
        "name",
        "kind",
        "access_point",
        "last_seen_at",
        "token_rotated_at",
        "revoked_at",
    ]
    list_filter = ["kind", "access_point__facility"]
    readonly_fields = [
        public_identifier,
        shown_as_code("token_prefix", _("token prefix")),
        "created_at",
        "token_rotated_at",
        "revoked_at",
        "last_seen_at",
    ]
    exclude = ["token_hash", "token_prefix"]  # issued by register_reader, shown above
    actions = ["rotate_token", "revoke"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        reader, token = actions.register_reader(
            actor=request.user, name=obj.name, kind=obj.kind, access_point=obj.access_point
        )
        obj.pk = reader.pk
        self.message_user(
            request,
            _("Reader token (shown once, copy it into the reader's configuration): %(token)s")
            % {"token": token},
            messages.WARNING,
        )

    def save_related(self, request, form, formsets, change):
        """A reader has no inline rows."""

    def delete_model(self, request, obj):
        actions.revoke_reader(actor=request.user, reader=obj)

    def delete_queryset(self, request, queryset):
        for reader in queryset:
            actions.revoke_reader(actor=request.user, reader=reader)

    @admin.action(description=_("Rotate the token (the old one stops working at once)"))
    def rotate_token(self, request, queryset):
        for reader in queryset:
            token = actions.rotate_reader_token(actor=request.user, reader=reader)
            self.message_user(request, f"{reader.name}: {token}", messages.WARNING)

    @admin.action(description=_("Revoke (the reader is refused from now on)"))
    def revoke(self, request, queryset):
        self.delete_queryset(request, queryset)
        self.message_user(request, _("Revoked."), messages.SUCCESS)
