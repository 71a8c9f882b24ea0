from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from identity.actions.streets import import_streets, read_ban_street_names
from identity.errors import DomainError
from identity.models import Commune


class Command(BaseCommand):
    help = (
        "Import the streets of a commune from a Base Adresse Nationale CSV file "
        "(adresse.data.gouv.fr: adresses-<département>.csv or a commune's export)."
    )

    def add_arguments(self, parser):
        parser.add_argument("insee_code", help="The commune's INSEE code (it must exist).")
        parser.add_argument("csv_file", type=Path, help="The BAN CSV file (';'-separated).")

    def handle(self, *args, insee_code: str, csv_file: Path, **options):
        commune = Commune.objects.filter(insee_code=insee_code).first()
        if commune is None:
            raise CommandError(f"No commune with the INSEE code {insee_code}.")
        try:
            with csv_file.open(encoding="utf-8-sig", newline="") as lines:
                names = read_ban_street_names(lines, insee_code=insee_code)
        except OSError as error:
            raise CommandError(f"Cannot read {csv_file}: {error.strerror}") from error
        except DomainError as error:
            raise CommandError(error.message) from error
        result = import_streets(actor=None, commune=commune, names=names)
        self.stdout.write(
            f"{result.added} street(s) added to {commune.name}, "
            f"{result.already_known} already known"
        )
