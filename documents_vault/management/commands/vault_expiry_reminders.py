from django.core.management.base import BaseCommand

from documents_vault.actions import maintenance


class Command(BaseCommand):
    help = "For cron once a day: mail households about documents expiring within 30 days."

    def handle(self, *args, **options):
        reminded = maintenance.send_expiry_reminders()
        self.stdout.write(f"{reminded} document(s) reminded")
