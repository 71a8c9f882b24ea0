"""Readers in the Django admin (administrators only). Tokens are issued, rotated and revoked
through card.actions so they are hashed, audited and dropped from the reader cache at once."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from identity.errors import DomainError

from .actions import readers as actions
from .models import Reader


@admin.register(Reader)
class ReaderAdmin(admin.ModelAdmin):
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
        "public_id",
        "token_prefix",
        "created_at",
        "token_rotated_at",
        "revoked_at",
        "last_seen_at",
    ]
    exclude = ["token_hash"]
    actions = ["rotate_token", "revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            reader, token = actions.register_reader(
                actor=request.user, name=obj.name, kind=obj.kind, access_point=obj.access_point
            )
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        obj.pk = reader.pk
        self.message_user(
            request,
            _("Reader token (shown once, copy it into the reader's configuration): %(token)s")
            % {"token": token},
            messages.WARNING,
        )

    @admin.action(description=_("Rotate the token (the old one stops working at once)"))
    def rotate_token(self, request, queryset):
        for reader in queryset:
            token = actions.rotate_reader_token(actor=request.user, reader=reader)
            self.message_user(request, f"{reader.name}: {token}", messages.WARNING)

    @admin.action(description=_("Revoke (the reader is refused from now on)"))
    def revoke(self, request, queryset):
        for reader in queryset:
            actions.revoke_reader(actor=request.user, reader=reader)
        self.message_user(request, _("Revoked."), messages.SUCCESS)
