"""The absolute links of an appointment, for what leaves the site (mails, calendar files, the
national network)."""

from django.conf import settings
from django.urls import reverse

from .models import Appointment


def absolute(path: str) -> str:
    return f"{settings.SESAME_SITE_URL.rstrip('/')}{path}"


def detail_path(appointment: Appointment) -> str:
    """The appointment's page in Mon espace, where it is moved or cancelled."""
    return reverse("appointments:detail", args=[appointment.public_id])


def management_url(appointment: Appointment) -> str:
    """The appointment's page, as an absolute link (calendar files, the national network)."""
    return absolute(detail_path(appointment))
