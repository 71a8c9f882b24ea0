import time

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo staff account (DEBUG installs only)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--secret", action="store_true", help="print the secret instead")

    def handle(self, *args, email: str, secret: bool, **options):
        if not settings.DEBUG:
            raise CommandError("Only for the demo (DEBUG on).")
        authenticator = Authenticator.objects.filter(
            user__email=email, type=Authenticator.Type.TOTP
        ).first()
        if authenticator is None:
            raise CommandError(f"No TOTP authenticator for {email}.")
        key = decrypt(authenticator.data["secret"])
        if secret:
            self.stdout.write(key)
            return
        self.stdout.write(format_hotp_value(hotp_value(key, int(time.time()) // 30)))
