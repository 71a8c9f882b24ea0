"""Brings the national passport appointment network (ANTS) in step with the appointments whose
declaration or release failed (the network unreachable when they were booked, moved or
cancelled). From cron every few minutes; does nothing when the network is not configured."""

from django.core.management.base import BaseCommand

from services.appointments.actions import sync_pending_with_network


class Command(BaseCommand):
    help = "Retry the ANTS declarations and releases that failed."

    def handle(self, *args, **options):
        done, pending = sync_pending_with_network()
        self.stdout.write(f"{done} in step, {pending} still pending")
