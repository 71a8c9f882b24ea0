"""The safe's background work: the orphan sweep, the master-key rotation and the expiry
reminders (run by cron through their management commands, or as django-tasks tasks)."""

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.models import AuditEntry
from identity.tasks import send_email

from .. import crypto, queries, storage
from ..models import Document, DocumentVersion

logger = logging.getLogger(__name__)

# An upload in progress writes its object a moment before its row commits: leave recent
# objects alone.
ORPHAN_GRACE = timedelta(hours=1)
SWEEP_BATCH = 500


def sweep_orphans(*, grace: timedelta = ORPHAN_GRACE) -> int:
    """Remove the objects no file version names: left by a crash between writing an object and
    committing its row, or by a shredding whose deletion failed. (Such an object is already
    unreadable: its data key never reached, or no longer is in, the database.) Returns how
    many were removed."""
    cutoff = timezone.now() - grace
    removed = 0
    batch: list[str] = []

    def flush() -> int:
        known = set(
            DocumentVersion.objects.filter(object_name__in=batch).values_list(
                "object_name", flat=True
            )
        )
        count = 0
        for name in batch:
            if name in known:
                continue
            modified = storage.modified_at(name)
            if modified is not None and modified > cutoff:
                continue
            storage.delete_object(name)
            count += 1
        batch.clear()
        return count

    for name in storage.list_objects():
        batch.append(name)
        if len(batch) >= SWEEP_BATCH:
            removed += flush()
    if batch:
        removed += flush()
    if removed:
        logger.info("vault sweep removed %s orphan object(s)", removed)
    return removed


@dataclass(frozen=True)
class RotationReport:
    rewrapped: int
    failed: int  # wrapped by a master key this server does not know (see the command's help)
    remaining: int  # still under an old key after this run (failed ones included)


def rotate_master_key(*, batch_size: int = 200) -> RotationReport:
    """Re-wrap every data key still under an older master key with the current one, without
    touching the files. Each key is re-wrapped in its own transaction, so a crash loses
    nothing and running the command again resumes where it stopped."""
    master = crypto.master_key()
    rewrapped = failed = 0
    last_pk = 0
    while True:
        ids = list(
            DocumentVersion.objects.filter(pk__gt=last_pk, wrapped_key__isnull=False)
            .exclude(key_id=master.key_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        for pk in ids:
            last_pk = pk
            with transaction.atomic():
                version = (
                    DocumentVersion.objects.select_for_update()
                    .filter(pk=pk, wrapped_key__isnull=False)
                    .exclude(key_id=master.key_id)
                    .first()
                )
                if version is None:  # shredded or re-wrapped meanwhile
                    continue
                try:
                    data_key = crypto.unwrap_data_key(
                        version.wrapped_key, binding=version.public_id, key_id=version.key_id
                    )
                except crypto.VaultKeyError:
                    failed += 1
                    logger.error("vault rotation: version %s has an unknown master key", pk)
                    continue
                version.wrapped_key = crypto.wrap_data_key(
                    data_key, binding=version.public_id, master=master
                )
                version.key_id = master.key_id
                version.save(update_fields=["wrapped_key", "key_id"])
                rewrapped += 1
    remaining = (
        DocumentVersion.objects.filter(wrapped_key__isnull=False)
        .exclude(key_id=master.key_id)
        .count()
    )
    record_audit_entry(
        actor=None,
        action="vault.master_key_rotated",
        target=f"{rewrapped} rewrapped, {failed} failed, {remaining} remaining",
        channel=AuditEntry.Channel.SYSTEM,
    )
    return RotationReport(rewrapped=rewrapped, failed=failed, remaining=remaining)


def send_expiry_reminders(*, today: date | None = None) -> int:
    """Mail the household's adults once per document and expiry date, from 30 days before it
    expires. Returns how many documents were reminded."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=queries.EXPIRY_NOTICE_DAYS)
    due = (
        Document.objects.filter(
            deleted_at__isnull=True, expires_on__gte=today, expires_on__lte=horizon
        )
        .exclude(reminded_for=F("expires_on"))
        .select_related("person", "household")
    )
    reminded = 0
    for document in due:
        with transaction.atomic():
            claimed = (
                Document.objects.filter(pk=document.pk)
                .exclude(reminded_for=document.expires_on)
                .update(reminded_for=document.expires_on)
            )
            if not claimed:  # another worker reminded it
                continue
            recipients = queries.household_emails(document.household)
            if recipients:
                subject, body = _reminder_text(document)
                transaction.on_commit(
                    lambda s=subject, b=body, r=recipients: send_email.enqueue(
                        subject=s, body=b, to=r
                    )
                )
            reminded += 1
    return reminded


def _reminder_text(document: Document) -> tuple[str, str]:
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("A document expires soon: %(kind)s of %(name)s") % {
            "kind": document.get_kind_display(),
            "name": document.person.first_name,
        }
        body = _(
            "The %(kind)s of %(name)s in your documents expires on %(date)s.\n\n"
            "Add the new one in My documents as soon as you have it: procedures that need it "
            "will find it there."
        ) % {
            "kind": str(document.get_kind_display()).lower(),
            "name": document.person.first_name,
            "date": document.expires_on.strftime("%d/%m/%Y"),
        }
    return str(subject), str(body)
