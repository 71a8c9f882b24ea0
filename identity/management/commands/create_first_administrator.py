import getpass
import sys

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from identity.actions.staff import create_first_administrator
from identity.errors import DomainError


class Command(BaseCommand):
    help = (
        "Create the first town-wide administrator of a new installation (refused once one "
        "exists). The password is asked twice, or read from standard input with --password-stdin."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--first-name", required=True)
        parser.add_argument("--last-name", required=True)
        parser.add_argument("--password-stdin", action="store_true")

    def handle(self, *args, email, first_name, last_name, password_stdin, **options):
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password (again): ") != password:
                raise CommandError("The two passwords differ.")
        try:
            password_validation.validate_password(password)
            user = create_first_administrator(
                email=email, first_name=first_name, last_name=last_name, password=password
            )
        except ValidationError as invalid:
            raise CommandError(" ".join(invalid.messages)) from invalid
        except DomainError as refused:
            raise CommandError(str(refused)) from refused
        self.stdout.write(
            f"Administrator account {user.pk} created: log in, then set up its second factor."
        )
