"""manage.py restore PATH: rebuild the configured instance, which must be empty (a database
created empty, an empty document safe storage), from a backup archive (docs/backup.md)."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from portal.backup.archive import RestoreRefused, restore_backup
from portal.backup.sealed import ArchiveRefused


class Command(BaseCommand):
    help = "Restore a backup archive into the configured empty instance"

    def add_arguments(self, parser):
        parser.add_argument("path", help="The archive: a file, or its name in the backups storage")
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Do not ask for confirmation",
        )

    def handle(self, *args, path: str, interactive: bool, **options):
        if interactive:
            answer = input(f"Restore {path} into the configured (empty) instance? Type 'yes': ")
            if answer.strip() != "yes":
                raise CommandError("Restore cancelled.")
        try:
            report = restore_backup(path)
        except ArchiveRefused as error:
            raise CommandError(f"Archive refused: {error}") from error
        except (RestoreRefused, ImproperlyConfigured) as error:
            raise CommandError(f"Restore refused: {error}") from error
        self.stdout.write(
            f"Restored the backup of {report.created_at}: the database and "
            f"{report.objects} document object(s)."
        )
