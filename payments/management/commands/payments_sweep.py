from django.core.management.base import BaseCommand

from payments.actions.sweep import sweep


class Command(BaseCommand):
    help = (
        "Recovery path, for cron every few minutes: fulfil (or undo) the lines of paid "
        "(or refunded) orders a crash or a failing service left behind, and retry card "
        "refunds left pending."
    )

    def handle(self, *args, **options):
        orders = sweep()
        self.stdout.write(f"{len(orders)} order(s) queued for fulfilment")
