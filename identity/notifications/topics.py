"""What a notification is about, in words: the staff statistics and the resident's list show
these labels, never the codes. A floor that notifies adds its topics here (as it adds its audit
actions to identity.vocabulary.ACTION_LABELS); `notify` refuses a topic missing from this list."""

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

TOPIC_LABELS: dict[str, Promise] = {
    "account.sms_confirmed": gettext_lazy("SMS notifications"),
    "procedures.state_changed": gettext_lazy("Online procedures"),
    "procedures.message": gettext_lazy("Messages about online procedures"),
    "procedures.draft_reminder": gettext_lazy("Reminders of unfinished procedures"),
    "appointments.confirmed": gettext_lazy("Appointment confirmations"),
    "appointments.reminder": gettext_lazy("Appointment reminders"),
    "appointments.cancelled": gettext_lazy("Appointments cancelled by the desk"),
    "canteen.invoice_issued": gettext_lazy("Canteen invoices"),
    "canteen.absence_decided": gettext_lazy("Decisions on canteen absences"),
    "canteen.household_moved": gettext_lazy("The school canteen after a move"),
    "canteen.bookings_after_move": gettext_lazy("Canteen bookings of a family that moves"),
    "canteen.school_closed": gettext_lazy("A school closed: no canteen that day"),
    "waste_bags.household_moved": gettext_lazy("Waste-sorting bags after a move"),
}


def topic_label(code: str) -> str:
    label = TOPIC_LABELS.get(code)
    return str(label) if label is not None else _("Other messages")
