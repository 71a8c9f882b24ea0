"""Forgotten drafts: a draft untouched for DRAFT_LIFETIME is deleted, after a reminder sent
REMINDER_NOTICE before (a draft found late is reminded first, and deleted REMINDER_NOTICE
after). Saving a step resets the clock. Run by `manage.py procedures_sweep` (cron, daily)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from identity.actions.audit import record_audit_entry

from ..models import ProcedureEvent, ProcedureFile
from ..types import State
from .common import Channel, record

DRAFT_LIFETIME = timedelta(days=60)
REMINDER_NOTICE = timedelta(days=7)


@dataclass(frozen=True)
class SweepOutcome:
    reminded: int
    deleted: int


def _remind(file_id: int, now: datetime) -> bool:
    with transaction.atomic():
        file = ProcedureFile.objects.select_for_update().filter(pk=file_id).first()
        if file is None or file.state != State.DRAFT or file.reminded_at is not None:
            return False
        if file.updated_at > now - (DRAFT_LIFETIME - REMINDER_NOTICE):
            return False
        file.reminded_at = now
        file.save(update_fields=["reminded_at"])
        record(
            file,
            actor=None,
            kind=ProcedureEvent.Kind.REMINDED,
            action="procedure.draft_reminded",
            channel=Channel.SYSTEM,
        )
        return True


def _delete(file_id: int, now: datetime) -> bool:
    with transaction.atomic():
        file = ProcedureFile.objects.select_for_update().filter(pk=file_id).first()
        if file is None or file.state != State.DRAFT or file.reminded_at is None:
            return False
        if file.updated_at > now - DRAFT_LIFETIME or file.reminded_at > now - REMINDER_NOTICE:
            return False
        record_audit_entry(
            actor=None,
            action="procedure.draft_expired",
            household=file.household,
            person=file.applicant,
            target=f"procedure:{file.public_id}",
            channel=Channel.SYSTEM,
        )
        file.events.all().delete()
        file.delete()
        return True


def sweep_drafts(*, now: datetime | None = None) -> SweepOutcome:
    """Remind the owners of drafts about to expire, delete the expired ones (each file in its
    own transaction, re-read under its lock: a draft saved meanwhile is kept)."""
    now = now or timezone.now()
    drafts = ProcedureFile.objects.filter(state=State.DRAFT)
    to_remind = drafts.filter(
        reminded_at__isnull=True, updated_at__lte=now - (DRAFT_LIFETIME - REMINDER_NOTICE)
    ).values_list("pk", flat=True)
    reminded = sum(_remind(pk, now) for pk in list(to_remind))
    to_delete = drafts.filter(
        reminded_at__lte=now - REMINDER_NOTICE, updated_at__lte=now - DRAFT_LIFETIME
    ).values_list("pk", flat=True)
    deleted = sum(_delete(pk, now) for pk in list(to_delete))
    return SweepOutcome(reminded=reminded, deleted=deleted)
