from django.core.management.base import BaseCommand

from documents_vault.actions import maintenance


class Command(BaseCommand):
    help = (
        "For cron every hour: remove the document safe's stored objects that no file version "
        "names (left by a crash between writing an object and committing its row)."
    )

    def handle(self, *args, **options):
        removed = maintenance.sweep_orphans()
        self.stdout.write(f"{removed} orphan object(s) removed")
