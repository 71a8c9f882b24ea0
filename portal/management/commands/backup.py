"""manage.py backup: one encrypted, dated archive of the database and the document safe in the
backups storage; keeps the newest SESAME_BACKUP_KEEP (or --keep). The archive's address is the
last line printed (docs/backup.md)."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from portal.backup.archive import make_backup
from portal.backup.sealed import ArchiveRefused


class Command(BaseCommand):
    help = "Write one encrypted backup archive (database and document safe)"

    def add_arguments(self, parser):
        parser.add_argument(
            "--keep",
            type=int,
            default=settings.SESAME_BACKUP_KEEP,
            help="How many archives to keep, newest first (default: SESAME_BACKUP_KEEP)",
        )

    def handle(self, *args, keep: int, **options):
        if keep < 1:
            raise CommandError("--keep must be 1 or more.")
        try:
            report = make_backup(keep=keep)
        except (ArchiveRefused, ImproperlyConfigured, OSError) as error:
            raise CommandError(f"Backup failed: {error}") from error
        for name in report.removed:
            self.stdout.write(f"removed the older archive {name}")
        self.stdout.write(f"{report.objects} document object(s) and the database saved")
        self.stdout.write(report.location)
