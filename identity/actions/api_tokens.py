"""Bearer tokens for staff applications: issued, rotated and revoked by administrators."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from .. import tokens
from ..errors import Forbidden
from ..models import (
    ApiToken,
    AuditEntry,
    User,
)
from ..permissions import Capability, has_capability
from .audit import record_audit_entry

Channel = AuditEntry.Channel


API_TOKEN_LABEL = "ses"  # noqa: S105 - a label, not a secret


def issue_api_token(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and its clear value, shown once and never stored."""
    new = tokens.new_token(API_TOKEN_LABEL)
    token = ApiToken.objects.create(user=user, name=name, prefix=new.prefix, key_hash=new.key_hash)
    record_audit_entry(actor=user, action="api_token.issued", target=new.prefix)
    return token, new.raw


def authenticate_api_token(raw: str) -> User | None:
    parsed = tokens.parse(raw, API_TOKEN_LABEL)
    if parsed is None:
        return None
    prefix, secret = parsed
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    if not tokens.matches(secret, token.key_hash):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        # Coarse last-use stamp: one write per token per five minutes, not per request.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def revoke_api_token(*, actor: User, token: ApiToken) -> None:
    if token.user_id != actor.pk and not has_capability(actor, Capability.MANAGE_STAFF):
        raise Forbidden(_("You cannot revoke this token."))
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    record_audit_entry(actor=actor, action="api_token.revoked", target=token.prefix)
