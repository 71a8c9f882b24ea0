from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from card import demo as card_demo
from documents_vault import demo as vault_demo
from identity import demo
from payments import demo as payments_demo
from services.alerts import demo as alerts_demo
from services.canteen import demo as canteen_demo
from services.canteen import demo_invoices as canteen_invoices_demo
from services.catalog import demo as catalog_demo
from services.civil_status import demo as civil_status_demo
from services.elections import demo as elections_demo
from services.moving import demo as moving_demo
from services.schools import demo as schools_demo
from services.waste_bags import demo as waste_bags_demo
from services.water import demo as water_demo


class Command(BaseCommand):
    help = "Load the demo territory and accounts (idempotent) and print how to log in."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("The demo data is for DEBUG installs only.")
        # What the demo writes in words (its residents' messages, documents' titles) is in the
        # territory's language, whatever language the caller had active.
        with translation.override(settings.LANGUAGE_CODE):
            accounts, readers = self._load()
        self._print(accounts, readers)

    def _load(self):
        accounts = demo.load()
        catalog_demo.load()
        waste_bags_demo.load()
        payments_demo.load()
        vault_demo.load()
        # The procedures' files use the documents of the safe's demo: after it.
        for procedures_demo in (
            civil_status_demo,
            elections_demo,
            moving_demo,
            water_demo,
            alerts_demo,
            schools_demo,
        ):
            procedures_demo.load()
        # The canteen enrols children of the schools' demo families: after it.
        canteen_demo.load()
        # Last month's canteen bills: the month the canteen's demo imported and marked (none
        # when it was the summer holidays), or the bookings of a demo loaded a month ago.
        canteen_invoices_demo.load()
        readers = card_demo.load()
        return accounts, readers

    def _print(self, accounts, readers):
        self.stdout.write(
            self.style.SUCCESS(f"\nSésame demo accounts (password for all: {demo.DEMO_PASSWORD})")
        )
        for account in accounts:
            self.stdout.write(f"  {account.email:34} {account.label}")
        self.stdout.write(
            "\nStaff accounts use a second factor. Current code for one of them:\n"
            "  make totp EMAIL=agent.piscine@demo.sesame.fr\n"
            "(or add its TOTP secret to an authenticator app: make totp EMAIL=… SECRET=1)\n"
        )
        self.stdout.write(f"Demo readers: {len(readers)} (tokens derived, see card/demo.py):")
        for reader in readers:
            self.stdout.write(f"  ACCESS_POINT={reader.access_point:18} {reader.name}")
        self.stdout.write("Tap Camille's card at the first pool entrance: make tap")
        self.stdout.write(
            "The self-service kiosk of the pool's hall: open the link `make kiosk-screen` prints,\n"
            "then tap the card there with `make kiosk-demo KIOSK=1`\n"
        )
