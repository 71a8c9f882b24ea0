from django.core.management.base import BaseCommand

from card.tasks import expire_cards


class Command(BaseCommand):
    help = "Queue the nightly expiry of cards past their date (run it from cron once a day)."

    def handle(self, *args, **options):
        result = expire_cards.enqueue()
        self.stdout.write(f"queued expire_cards ({result.id})")
