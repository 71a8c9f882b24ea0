"""The absolute links of an appointment, for what leaves the site (mails, calendar files, the
national network)."""

from django.conf import settings
from django.urls import reverse

from .models import Appointment


def absolute(path: str) -> str:
    return f"{settings.SESAME_SITE_URL.rstrip('/')}{path}"


def management_url(appointment: Appointment) -> str:
    """Where the resident sees, moves and cancels the appointment."""
    return absolute(reverse("appointments:detail", args=[appointment.public_id]))
