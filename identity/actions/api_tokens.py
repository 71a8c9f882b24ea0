"""Bearer tokens for staff applications (the library's ILS, a partner): issued, named, scoped,
rotated and revoked by administrators.

Each application gets an account of its own (`User.is_application`: no password, never signs
in) whose staff roles are the token's scope, a role and its facilities: the API asks
identity.permissions about it like about any staff member, and the trail names it. The secret
is returned once, only its hash is stored."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import tokens
from ..errors import Conflict, DomainError, Forbidden
from ..models import ApiToken, AuditEntry, Facility, StaffRole, User
from ..permissions import Capability, has_capability, manages_staff_at
from .audit import record_audit_entry
from .staff import check_staff_scope

Channel = AuditEntry.Channel

API_TOKEN_LABEL = "ses"  # noqa: S105 - a label, not a secret
APPLICATION_EMAIL_DOMAIN = "applications.invalid"  # reserved (RFC 2606): never a mailbox


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the clear token, shown once


def _require_token_manager(actor: User, token: ApiToken) -> None:
    """The token's scope must be entirely the actor's to manage."""
    grants = list(token.user.staff_roles.select_related("facility"))
    if not has_capability(actor, Capability.MANAGE_STAFF) or not all(
        manages_staff_at(actor, grant.facility) for grant in grants
    ):
        raise Forbidden(_("You do not manage this application's facilities."))


@transaction.atomic
def issue_api_token(
    *,
    actor: User,
    name: str,
    role: str,
    facilities: Sequence[Facility],
    channel: str = Channel.WEB,
) -> IssuedToken:
    """An administrator issues a token for an application, scoped to `role` at `facilities`
    (none: town-wide), every one of which they manage. Refused as a whole, nothing written."""
    if not has_capability(actor, Capability.MANAGE_STAFF):
        raise Forbidden(_("Only an administrator issues application tokens."))
    name = name.strip()
    if not name:
        raise DomainError(_("Name the application."), field="name")
    if len(name) > 100:
        raise DomainError(_("The name is 100 characters at most."), field="name")
    if role == StaffRole.Role.ADMIN:
        raise DomainError(_("An application cannot be an administrator."), field="role")
    scopes = list(dict.fromkeys(facilities)) or [None]
    for facility in scopes:
        check_staff_scope(actor=actor, role=role, facility=facility, field="facilities")
    application = User.objects.create_user(
        email=f"application-{secrets.token_hex(8)}@{APPLICATION_EMAIL_DOMAIN}",
        password=None,  # unusable: an application never signs in
        first_name=name,
        is_application=True,
    )
    StaffRole.objects.bulk_create(
        StaffRole(user=application, role=role, facility=facility) for facility in scopes
    )
    new = tokens.new_token(API_TOKEN_LABEL)
    token = ApiToken.objects.create(
        user=application, name=name, prefix=new.prefix, key_hash=new.key_hash, issued_by=actor
    )
    record_audit_entry(actor=actor, action="api_token.issued", target=name, channel=channel)
    return IssuedToken(token=token, secret=new.raw)


@transaction.atomic
def rotate_api_token(*, actor: User, token: ApiToken, channel: str = Channel.WEB) -> IssuedToken:
    """A new secret for the same application and scope; the previous one stops working now."""
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    _require_token_manager(actor, token)
    if token.revoked_at is not None:
        raise Conflict(_("This token is revoked: issue a new one."))
    new = tokens.new_token(API_TOKEN_LABEL)
    token.prefix, token.key_hash, token.rotated_at = new.prefix, new.key_hash, timezone.now()
    token.save(update_fields=["prefix", "key_hash", "rotated_at"])
    record_audit_entry(actor=actor, action="api_token.rotated", target=token.name, channel=channel)
    return IssuedToken(token=token, secret=new.raw)


@transaction.atomic
def revoke_api_token(*, actor: User, token: ApiToken, channel: str = Channel.WEB) -> None:
    """The token stops working now; an application's roles end with it. A staff member may
    revoke a token of their own."""
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    if token.user_id != actor.pk:
        _require_token_manager(actor, token)
    if token.revoked_at is not None:
        raise Conflict(_("This token is already revoked."))
    now = timezone.now()
    token.revoked_at = now
    token.save(update_fields=["revoked_at"])
    if token.user.is_application:
        StaffRole.objects.filter(user=token.user, revoked_at__isnull=True).update(revoked_at=now)
    record_audit_entry(actor=actor, action="api_token.revoked", target=token.name, channel=channel)


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
