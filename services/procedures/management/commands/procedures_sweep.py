from django.core.management.base import BaseCommand

from services.procedures.actions.sweep import sweep_drafts


class Command(BaseCommand):
    help = (
        "For cron every day: remind residents of procedure drafts untouched for 53 days, "
        "delete those untouched for 60 days a week after their reminder."
    )

    def handle(self, *args, **options):
        outcome = sweep_drafts()
        self.stdout.write(
            f"{outcome.reminded} draft(s) reminded, {outcome.deleted} draft(s) deleted"
        )
