"""Import the school holidays from an export (CSV or JSON) of the Éducation nationale's
"calendrier scolaire" open data: manage.py import_school_calendar fr-en-calendrier-scolaire.csv"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from identity.errors import DomainError
from identity.schooling.actions import import_school_calendar


class Command(BaseCommand):
    help = "Import school holidays (each school year's zone) from the national calendar export."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            added = import_school_calendar(actor=None, content=file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(str(error)) from error
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"{added} holiday periods added.")
