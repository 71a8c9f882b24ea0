from django.core.management.base import BaseCommand

from identity.notifications.tasks import send_due_notifications


class Command(BaseCommand):
    help = (
        "Recovery path, for cron every few minutes: one delivery attempt for each notification "
        "whose time has come (a queue that was down, a retry that could not be queued)."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"{send_due_notifications.call()} notification(s) tried")
