"""The State's passport and identity card appointment network (ANTS, "rendez-vous mairie"):
the client of its coordination API ("API de dédoublonnage", docs/appointments.md names the
version followed). Off unless SESAME_ANTS_COORDINATION_URL and SESAME_ANTS_COORDINATION_TOKEN
are set; then the pre-application number asked at the passport desk is checked here before a
booking, declared once the booking is committed and released when it is cancelled
(actions.sync_with_network, retried by `manage.py appointments_network_sweep`).

The endpoints the network calls on the town's side (meeting points, slots, appointments by
pre-application number) are in ants_editor.py."""

import logging
import re
from dataclasses import dataclass
from datetime import datetime

import requests
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from identity.errors import DomainError

logger = logging.getLogger(__name__)

# Ten letters or digits, as the ANTS prints it at the end of the online pre-application.
NUMBER = re.compile(r"^[A-Z0-9]{10}$")
TIMEOUT_SECONDS = 4
TOKEN_HEADER = "x-rdv-opt-auth-token"  # noqa: S105 - the header's name, not a secret


class Unavailable(Exception):
    """The coordination API did not answer, or answered an error."""


def enabled() -> bool:
    return bool(settings.SESAME_ANTS_COORDINATION_URL and settings.SESAME_ANTS_COORDINATION_TOKEN)


def normalise(number: str) -> str:
    return number.strip().upper().replace(" ", "")


def check_format(number: str) -> str:
    number = normalise(number)
    if not NUMBER.match(number):
        raise DomainError(
            _("A pre-application number is 10 letters or digits."),
            field="pre_application_number",
            code="malformed",
        )
    return number


def _request(method: str, resource: str, params: dict) -> dict:
    url = f"{settings.SESAME_ANTS_COORDINATION_URL.rstrip('/')}/{resource}"
    headers = {"Accept": "application/json", TOKEN_HEADER: settings.SESAME_ANTS_COORDINATION_TOKEN}
    try:
        response = requests.request(
            method, url, params=params, headers=headers, timeout=TIMEOUT_SECONDS
        )
    except requests.RequestException as error:
        raise Unavailable(type(error).__name__) from error
    if response.status_code >= 400:
        raise Unavailable(f"HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError as error:
        raise Unavailable("not JSON") from error


REFUSALS = {
    "declared": gettext_lazy("This pre-application number is not yet recognised by the ANTS."),
    "consumed": gettext_lazy(
        "This pre-application number belongs to an application already filed."
    ),
    "expired": gettext_lazy("This pre-application number has expired."),
    "unknown": gettext_lazy("This pre-application number is unknown to the ANTS."),
}


def check(number: str) -> None:
    """Refuse a number the network does not let one book with: any status but `validated`,
    or a number that already holds an appointment (here or in another town). The network
    unreachable refuses too (a booking that could not be checked would be a duplicate)."""
    try:
        answer = _request("GET", "status", {"application_ids": number})
        entry = answer.get(number) or {}
    except (Unavailable, AttributeError) as error:
        logger.warning("ants status check failed: %s", error)
        raise DomainError(
            _("The national appointment network cannot check the number now: try again later."),
            field="pre_application_number",
            code="network_unavailable",
        ) from error
    status = entry.get("status", "unknown")
    if status != "validated":
        reason = REFUSALS.get(status, REFUSALS["unknown"])
        raise DomainError(str(reason), field="pre_application_number", code=f"number_{status}")
    if entry.get("appointments"):
        raise DomainError(
            _("This pre-application number already holds an appointment: cancel it first."),
            field="pre_application_number",
            code="number_used",
        )


@dataclass(frozen=True)
class Declaration:
    number: str
    meeting_point_id: str
    meeting_point: str
    starts_at: datetime
    management_url: str

    def params(self) -> dict:
        return {
            "application_id": self.number,
            "meeting_point_id": self.meeting_point_id,
            "meeting_point": self.meeting_point,
            "appointment_date": timezone.localtime(self.starts_at).strftime("%Y-%m-%d %H:%M:%S"),
        }


def declare(declaration: Declaration) -> None:
    """Declare the appointment of a number; Unavailable when the network did not take it."""
    _request(
        "POST",
        "appointments",
        {**declaration.params(), "management_url": declaration.management_url},
    )


def release(declaration: Declaration) -> None:
    """Withdraw the appointment of a number; Unavailable when the network did not take it."""
    _request("DELETE", "appointments", declaration.params())
