"""Reminds residents of tomorrow's appointments (email, and SMS where they opted in). Run it
from cron every hour: each appointment is reminded once, whenever the command runs the day
before (actions.send_reminders)."""

from django.core.management.base import BaseCommand

from services.appointments.actions import send_reminders


class Command(BaseCommand):
    help = "Remind residents of tomorrow's appointments (once each)."

    def handle(self, *args, **options):
        sent = send_reminders()
        self.stdout.write(f"{sent} reminder(s) sent")
