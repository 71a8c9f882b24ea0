"""What a resident is told about an appointment, through identity.notifications: the one
module of this service that notifies. The confirmation carries the calendar file (.ics) and the
link to the appointment's page, where it is moved or cancelled; the reminder goes the day
before, by email and by SMS where the resident opted in; a cancellation by the desk is told
too. Called inside the action's transaction: a booking rolled back sends nothing.

The texts are written in the site's language (French): the recipient reads them outside the
site. They go to the person's own account, or, for a child without one, to a guardian's."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from identity.models import User
from identity.notifications import notify

from . import calendar
from .links import detail_path
from .models import Appointment


def recipient_of(appointment: Appointment) -> User | None:
    person = appointment.person
    if person.user_id is not None:
        return person.user
    guardianship = (
        person.guardians.active()
        .filter(guardian__user__isnull=False)
        .select_related("guardian__user")
        .order_by("pk")
        .first()
    )
    return guardianship.guardian.user if guardianship is not None else None


def _facts(appointment: Appointment) -> dict:
    local = timezone.localtime(appointment.starts_at)
    desk = appointment.desk
    return {
        "desk": desk.name,
        "place": desk.address or desk.facility.name,
        # "5 janvier 2027", "1er février 2027": the site's one way to write a day.
        "day": render_to_string("appointments/notices/day.txt", {"at": local.date()}).strip(),
        "time": local.strftime("%H:%M"),
        "person": f"{appointment.person.first_name} {appointment.person.last_name}",
    }


def _body(appointment: Appointment, first_line: str) -> str:
    lines = [first_line]
    if appointment.desk.what_to_bring:
        lines += ["", _("What to bring: %(what)s") % {"what": appointment.desk.what_to_bring}]
    lines += ["", _("To move or cancel it, open your appointment:")]
    return "\n".join(lines)


def _key(kind: str, appointment: Appointment) -> str:
    return f"appointments.{kind}:{appointment.public_id}:{int(appointment.starts_at.timestamp())}"


def _tell(
    appointment: Appointment,
    kind: str,
    *,
    subject: Promise,
    body: Promise,
    sms: Promise | None = None,
    practical: bool = True,
    calendar_file: bool = True,
) -> None:
    """The one shape of every notice: to the appointment's recipient, in the site's language,
    its texts filled with the appointment's facts, the link to its page, once per key. The
    texts are lazy so that they are translated here, inside the language override."""
    recipient = recipient_of(appointment)
    if recipient is None:
        return
    with translation.override(settings.LANGUAGE_CODE):
        facts = _facts(appointment)
        text = str(body) % facts
        notify(
            recipient=recipient,
            topic=f"appointments.{kind}",
            subject=str(subject) % facts,
            body=_body(appointment, text) if practical else text,
            sms=str(sms) % facts if sms is not None else "",
            link=detail_path(appointment),
            attachments=(
                [("rendez-vous.ics", calendar.ics(appointment), "text/calendar")]
                if calendar_file
                else []
            ),
            dedupe_key=_key(kind, appointment),
        )


def confirmed(appointment: Appointment) -> None:
    """The booking (or its new time, after a move) with its calendar file."""
    _tell(
        appointment,
        "confirmed",
        subject=gettext_lazy("Appointment confirmed: %(desk)s, %(day)s at %(time)s"),
        body=gettext_lazy(
            "The appointment of %(person)s at %(desk)s (%(place)s) is booked for %(day)s "
            "at %(time)s."
        ),
    )


def reminder(appointment: Appointment) -> None:
    """The day before: email, and SMS where the recipient opted in."""
    _tell(
        appointment,
        "reminder",
        subject=gettext_lazy("Reminder: appointment tomorrow at %(time)s, %(desk)s"),
        body=gettext_lazy(
            "Reminder: %(person)s has an appointment at %(desk)s (%(place)s) tomorrow, "
            "%(day)s at %(time)s."
        ),
        sms=gettext_lazy("Reminder: appointment %(desk)s tomorrow at %(time)s, %(place)s."),
        calendar_file=False,
    )


def cancelled_by_the_desk(appointment: Appointment) -> None:
    """Staff cancelled it: the resident must know (their own cancellation they saw)."""
    _tell(
        appointment,
        "cancelled",
        subject=gettext_lazy("Appointment cancelled: %(desk)s, %(day)s at %(time)s"),
        body=gettext_lazy(
            "The appointment of %(person)s at %(desk)s on %(day)s at %(time)s is "
            "cancelled by the desk. You can book another one:"
        ),
        sms=gettext_lazy(
            "Your appointment %(desk)s of %(day)s at %(time)s is cancelled by the desk."
        ),
        practical=False,
    )
