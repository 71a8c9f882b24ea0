"""Readers (gates, staff desks, kiosks): registered, their token rotated or revoked by an
administrator, and authenticated on every request from a cached row."""

import time

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from identity import tokens
from identity.actions.audit import record_audit_entry
from identity.errors import DomainError
from identity.models import User
from identity.permissions import Capability
from services.catalog.models import AccessPoint

from ..models import Reader
from .guards import require_capability

READER_TOKEN_LABEL = "rdr"  # noqa: S105 - a label, not a secret
READER_CACHE_SECONDS = 30


@transaction.atomic
def register_reader(
    *, actor: User, name: str, kind: str, access_point: AccessPoint
) -> tuple[Reader, str]:
    """Returns the reader and its token, shown once."""
    require_capability(actor, Capability.MANAGE_TERRITORY)
    if kind not in Reader.Kind.values:
        raise DomainError(_("Unknown kind of reader."), field="kind")
    if not name.strip():
        raise DomainError(_("Name the reader."), field="name")
    new = tokens.new_token(READER_TOKEN_LABEL)
    reader = Reader.objects.create(
        name=name.strip(),
        kind=kind,
        access_point=access_point,
        token_prefix=new.prefix,
        token_hash=new.key_hash,
    )
    record_audit_entry(actor=actor, action="reader.registered", target=reader.public_id)
    return reader, new.raw


@transaction.atomic
def rotate_reader_token(*, actor: User, reader: Reader) -> str:
    require_capability(actor, Capability.MANAGE_TERRITORY)
    reader = Reader.objects.select_for_update().get(pk=reader.pk)
    old_prefix = reader.token_prefix
    new = tokens.new_token(READER_TOKEN_LABEL)
    reader.token_prefix, reader.token_hash = new.prefix, new.key_hash
    reader.token_rotated_at = timezone.now()
    reader.save(update_fields=["token_prefix", "token_hash", "token_rotated_at"])
    _forget_reader(old_prefix)
    record_audit_entry(actor=actor, action="reader.token_rotated", target=reader.public_id)
    return new.raw


@transaction.atomic
def revoke_reader(*, actor: User, reader: Reader) -> None:
    require_capability(actor, Capability.MANAGE_TERRITORY)
    Reader.objects.filter(pk=reader.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    _forget_reader(reader.token_prefix)
    record_audit_entry(actor=actor, action="reader.revoked", target=reader.public_id)


HEARTBEAT_SECONDS = 60
_heartbeats: dict[int, float] = {}  # reader pk → monotonic time of this process's last write


def _reader_cache_key(prefix: str) -> str:
    return f"sesame:reader:{prefix}"


def _forget_reader(prefix: str) -> None:
    """Drop the cached reader now, and again at commit: a tap racing the change could have
    cached the old row in between."""
    cache.delete(_reader_cache_key(prefix))
    transaction.on_commit(lambda: cache.delete(_reader_cache_key(prefix)))


def authenticate_reader(raw: str) -> Reader | None:
    """The reader behind a bearer token, or None. Cached for a few seconds (per process, or in
    Redis across processes) so a tap does not pay a query for it; rotation and revocation
    clear the cache entry at once."""
    parsed = tokens.parse(raw, READER_TOKEN_LABEL)
    if parsed is None:
        return None
    prefix, secret = parsed
    key = _reader_cache_key(prefix)
    reader = cache.get(key)
    if reader is None:
        reader = (
            Reader.objects.select_related("access_point__facility")
            .filter(token_prefix=prefix, revoked_at__isnull=True)
            .first()
        )
        if reader is None:
            return None
        cache.set(key, reader, READER_CACHE_SECONDS)
    if not tokens.matches(secret, reader.token_hash):
        return None
    now = time.monotonic()
    if now - _heartbeats.get(reader.pk, -HEARTBEAT_SECONDS) >= HEARTBEAT_SECONDS:
        # Heartbeat: at most one write a minute per reader and process, and no cache round
        # trip on the other requests.
        _heartbeats[reader.pk] = now
        Reader.objects.filter(pk=reader.pk).update(last_seen_at=timezone.now())
    return reader
