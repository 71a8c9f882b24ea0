"""An appointment as an iCalendar file (RFC 5545, `icalendar`): what the confirmation carries
and the appointment's page offers, so it lands in the resident's own calendar. Times are in
UTC in the file: every calendar shows them in its own zone, right across a clock change."""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from .links import management_url
from .models import Appointment


def ics(appointment: Appointment, *, cancel_url: str = "") -> bytes:
    """The appointment as a calendar with one event; cancelled, the event says so (a calendar
    that imported it removes it)."""
    desk = appointment.desk
    link = cancel_url or management_url(appointment)
    cal = Calendar()
    cal.add("prodid", "-//Sésame//Rendez-vous//FR")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if appointment.status == Appointment.Status.CANCELLED else "PUBLISH")
    event = Event()
    host = settings.SESAME_SITE_URL.split("//")[-1].split("/")[0]
    event.add("uid", f"{appointment.public_id}@{host}")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    event.add("summary", _("Appointment — %(desk)s") % {"desk": desk.name})
    event.add("location", desk.address or desk.facility.name)
    description = [desk.facility.name]
    if desk.what_to_bring:
        description.append(_("What to bring: %(what)s") % {"what": desk.what_to_bring})
    description.append(_("Move or cancel: %(link)s") % {"link": link})
    event.add("description", "\n".join(description))
    event.add("url", link)
    if appointment.status == Appointment.Status.CANCELLED:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
    cal.add_component(event)
    return cal.to_ical()
