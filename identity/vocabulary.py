"""How the audit trail reads to people: one vocabulary for the administrators' trail and the
resident's *Who looked at my file*.

An entry stores codes (`payments.open_payment`, `person.corrected`, `{"last_name": [..]}`); pages
and exports show the words below, in the reader's language, and people by name. Every action
code written anywhere in Sésame has its words here (a test reads the code base to check it)."""

import re
from dataclasses import dataclass
from datetime import date

from django.apps import apps
from django.utils import formats
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .models import AuditEntry, Person, ReducedRateStatus, StaffRole, User
from .permissions import Capability

ACTION_LABELS: dict[str, Promise] = {
    # Accounts and households
    "account.locked": gettext_lazy("Account locked after failed logins"),
    "account.unlocked": gettext_lazy("Account unlocked by a password reset"),
    "household.created": gettext_lazy("Household created"),
    "household.member_added": gettext_lazy("Member added to the household"),
    "household.member_corrected": gettext_lazy("Member of the household corrected"),
    "household.member_removed": gettext_lazy("Member left the household"),
    "household.address_changed": gettext_lazy("Move declared"),
    "household.quotient_declared": gettext_lazy("Family quotient declared"),
    "household.quotient_fetch_consented": gettext_lazy(
        "Consent to fetch the family quotient from the CAF or the MSA"
    ),
    "household.quotient_fetched": gettext_lazy("Family quotient fetched from the CAF or the MSA"),
    "household.address_corrected": gettext_lazy("Address corrected"),
    "household.quotient_corrected": gettext_lazy("Family quotient corrected"),
    "person.corrected": gettext_lazy("Identity corrected"),
    "person.guardian_added": gettext_lazy("Legal guardian added"),
    "person.guardian_ended": gettext_lazy("Legal guardianship ended"),
    "person.reduced_rate_recorded": gettext_lazy("Reduced rate recorded"),
    "person.reduced_rate_ended": gettext_lazy("Reduced rate ended"),
    "household.members_confirmed": gettext_lazy("Household members confirmed"),
    "household.residency_verified": gettext_lazy("Residency verified"),
    "account.sms_consent_given": gettext_lazy("SMS notifications accepted"),
    "account.sms_consent_withdrawn": gettext_lazy("SMS notifications stopped"),
    "territory.streets_imported": gettext_lazy("Streets imported"),
    # Online procedures
    "procedure.started": gettext_lazy("Procedure started"),
    "procedure.submitted": gettext_lazy("Procedure submitted"),
    "procedure.state_changed": gettext_lazy("Procedure status changed"),
    "procedure.assigned": gettext_lazy("Procedure assigned"),
    "procedure.commented": gettext_lazy("Internal comment on a procedure"),
    "procedure.message_sent": gettext_lazy("Message on a procedure"),
    "procedure.viewed": gettext_lazy("Procedure file opened"),
    "procedure.exported": gettext_lazy("Procedures exported"),
    "procedure.draft_deleted": gettext_lazy("Procedure draft deleted"),
    "procedure.draft_reminded": gettext_lazy("Reminder before a draft is deleted"),
    "procedure.draft_expired": gettext_lazy("Forgotten procedure draft deleted"),
    "procedure.document_downloaded": gettext_lazy("Document of a procedure downloaded"),
    # The document safe
    "staff.documents_listed": gettext_lazy("Documents listed"),
    "staff.document_read": gettext_lazy("Document read"),
    "staff.document_added": gettext_lazy("Document sent to a resident"),
    "staff.document_verified": gettext_lazy("Document verified"),
    "staff.document_rejected": gettext_lazy("Document rejected"),
    "vault.access_refused": gettext_lazy("Access to a document refused"),
    "vault.integrity_failure": gettext_lazy("Damaged document detected"),
    "vault.master_key_rotated": gettext_lazy("Document safe key renewed"),
    # Staff reads and staff management
    "staff.residents_searched": gettext_lazy("Residents searched"),
    "staff.file_viewed": gettext_lazy("File opened"),
    "staff.admin_data_viewed": gettext_lazy("Residents' data opened in the administration"),
    "staff.card_looked_up": gettext_lazy("Card looked up"),
    "staff.card_photo_viewed": gettext_lazy("Card photo viewed"),
    "staff.role_granted": gettext_lazy("Staff role granted"),
    "staff.role_revoked": gettext_lazy("Staff role revoked"),
    "staff.second_factor_reset": gettext_lazy("Second factor reset"),
    "configuration.saved": gettext_lazy("Configuration saved"),
    "configuration.deleted": gettext_lazy("Configuration deleted"),
    "audit.trail_viewed": gettext_lazy("Audit trail read"),
    "audit.trail_exported": gettext_lazy("Audit trail exported"),
    "api_token.issued": gettext_lazy("Application token issued"),
    "api_token.rotated": gettext_lazy("Application token renewed"),
    "api_token.revoked": gettext_lazy("Application token revoked"),
    # Cards
    "card.requested": gettext_lazy("Card requested"),
    "card.phone_pass_issued": gettext_lazy("Phone pass issued"),
    "card.validated": gettext_lazy("Card request validated"),
    "card.rejected": gettext_lazy("Card request rejected"),
    "card.produced": gettext_lazy("Card produced"),
    "card.activated": gettext_lazy("Card handed over"),
    "card.suspended": gettext_lazy("Card suspended"),
    "card.reactivated": gettext_lazy("Card reactivated"),
    "card.replaced": gettext_lazy("Card replaced"),
    "card.revoked": gettext_lazy("Card revoked"),
    "card.expired": gettext_lazy("Card expired"),
    "card.personalisation_exported": gettext_lazy("Card personalisation data exported"),
    # Gates, readers and kiosks
    "tap.manual_entry": gettext_lazy("Entry recorded by hand"),
    "tap.refused.clock_skew": gettext_lazy("Tap refused: reader's clock is wrong"),
    "tap.refused.invalid_credential": gettext_lazy("Tap refused: forged or unreadable card"),
    "tap.refused.replay": gettext_lazy("Tap refused: card message replayed"),
    "tap.refused.card_suspended": gettext_lazy("Tap refused: card suspended"),
    "tap.refused.card_revoked": gettext_lazy("Tap refused: card revoked"),
    "tap.refused.card_replaced": gettext_lazy("Tap refused: card replaced"),
    "reader.registered": gettext_lazy("Reader registered"),
    "reader.token_rotated": gettext_lazy("Reader token renewed"),
    "reader.revoked": gettext_lazy("Reader revoked"),
    "reader.snapshot_issued": gettext_lazy("Offline list sent to a reader"),
    "kiosk.pairing_created": gettext_lazy("Kiosk screen pairing link created"),
    "kiosk.screen_paired": gettext_lazy("Kiosk screen paired"),
    "kiosk.pairings_revoked": gettext_lazy("Kiosk screen pairings revoked"),
    "library.members_exported": gettext_lazy("Library members exported"),
    # Services and payments
    "entitlement.granted": gettext_lazy("Pass or ticket granted"),
    "entitlement.revoked": gettext_lazy("Pass or ticket withdrawn"),
    "tariff.grid_published": gettext_lazy("Price grid published"),
    "tariff.grid_withdrawn": gettext_lazy("Price grid withdrawn"),
    "waste_bags.handed_out": gettext_lazy("Waste bags handed out"),
    "pools.lesson_held": gettext_lazy("Swimming lesson place held"),
    "pools.lesson_confirmed": gettext_lazy("Swimming lesson booked"),
    "pools.lesson_released": gettext_lazy("Swimming lesson place released"),
    "schooling.child_enrolled": gettext_lazy("Child enrolled at a school"),
    "schooling.school_closed": gettext_lazy("School closed for a day"),
    "schooling.calendar_imported": gettext_lazy("School calendar imported"),
    "canteen.booked": gettext_lazy("Canteen or care days booked"),
    "canteen.cancelled": gettext_lazy("Canteen or care days cancelled"),
    "canteen.no_shows_recorded": gettext_lazy("Canteen no-shows recorded"),
    "canteen.month_billed": gettext_lazy("Canteen month billed"),
    "canteen.absence_reported": gettext_lazy("Canteen absence reported with a certificate"),
    "canteen.absence_accepted": gettext_lazy("Canteen absence accepted"),
    "canteen.absence_refused": gettext_lazy("Canteen absence refused"),
    "canteen.absence_queue_opened": gettext_lazy("Canteen absences to decide opened"),
    "canteen.kitchen_list_opened": gettext_lazy("Canteen kitchen list opened"),
    "canteen.service_list_opened": gettext_lazy("Canteen service list opened"),
    "canteen.children_searched": gettext_lazy("Children searched at the canteen's service"),
    "canteen.served": gettext_lazy("Canteen meal marked served on the list"),
    "canteen.serve_undone": gettext_lazy("Canteen meal unticked"),
    "canteen.diets_declared": gettext_lazy("Canteen diets declared"),
    "canteen.diets_corrected": gettext_lazy("Canteen diets corrected by the town"),
    "canteen.menus_published": gettext_lazy("Canteen menu published"),
    "appointments.booked": gettext_lazy("Appointment booked"),
    "appointments.moved": gettext_lazy("Appointment moved"),
    "appointments.cancelled": gettext_lazy("Appointment cancelled"),
    "appointments.arrived": gettext_lazy("Arrival at an appointment"),
    "appointments.no_show": gettext_lazy("Absence from an appointment"),
    "appointments.slot_blocked": gettext_lazy("Appointment slot blocked"),
    "appointments.slot_freed": gettext_lazy("Appointment slot freed"),
    "appointments.agenda_viewed": gettext_lazy("Appointments of a desk consulted"),
    "appointments.resident_found": gettext_lazy("Resident looked up to book an appointment"),
    "payments.regie_saved": gettext_lazy("Régie set up"),
    "payments.list": gettext_lazy("Payments listed"),
    "payments.open_payment": gettext_lazy("Payment opened"),
    "payments.open_document": gettext_lazy("Invoice or receipt opened"),
    "payments.refund": gettext_lazy("Refund"),
    "payments.desk_payment": gettext_lazy("Payment taken at the desk"),
    "payments.wallet_payment": gettext_lazy("Order paid from the wallet"),
    "payments.line_undeliverable": gettext_lazy("Purchase that could not be delivered"),
    # The site's own pages
    "portal.legal_page_updated": gettext_lazy("Legal page rewritten"),
    # Schools
    "schools.catchment_imported": gettext_lazy("Catchment map imported"),
    "schools.enrolled": gettext_lazy("Child enrolled at a school"),
    "schools.list_read": gettext_lazy("School list downloaded"),
}

# The fields a correction names, as the pages call them.
FIELD_LABELS: dict[str, Promise] = {
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "birth_date": gettext_lazy("Date of birth"),
    "line1": gettext_lazy("Street address"),
    "line2": gettext_lazy("Address (continued)"),
    "postcode": gettext_lazy("Postcode"),
    "commune": gettext_lazy("Commune"),
    "valid_from": gettext_lazy("From"),
    "valid_until": gettext_lazy("Until"),
    "amount": gettext_lazy("Family quotient (€)"),
    "guardian": gettext_lazy("Legal guardian"),
    "category": gettext_lazy("Category"),
    "ended_on": gettext_lazy("Ended on"),
    "packed_meal": gettext_lazy("Brings a packed meal from home"),  # a canteen diet (PAI)
    "school": gettext_lazy("School"),  # an enrolment
    "level": gettext_lazy("Level"),
    "class": gettext_lazy("Class"),
}

# What each capability lets a staff member do, as the staff home lists it.
CAPABILITY_LABELS: dict[Capability, Promise] = {
    Capability.SEARCH_RESIDENTS: gettext_lazy("Search residents"),
    Capability.VIEW_RESIDENT_FILE: gettext_lazy("Open a resident's file"),
    Capability.EDIT_RESIDENT_FILE: gettext_lazy("Correct a resident's file"),
    Capability.VIEW_RESIDENT_DOCUMENTS: gettext_lazy("See a resident's documents"),
    Capability.SCAN_CARDS: gettext_lazy("Check cards"),
    Capability.VIEW_ATTENDANCE: gettext_lazy("See attendance"),
    Capability.VIEW_PAYMENTS: gettext_lazy("See payments"),
    Capability.REFUND_PAYMENTS: gettext_lazy("Refund payments"),
    Capability.VIEW_AUDIT_TRAIL: gettext_lazy("Read the audit trail"),
    Capability.MANAGE_STAFF: gettext_lazy("Manage staff and their applications"),
    Capability.MANAGE_TERRITORY: gettext_lazy("Manage the territory"),
    Capability.HANDLE_APPOINTMENTS: gettext_lazy("Receive residents by appointment"),
    Capability.HANDLE_PROCEDURES: gettext_lazy("Handle online procedures"),
    Capability.ASSIST_AT_COUNTER: gettext_lazy("Submit a procedure for a resident at the counter"),
    Capability.FOLLOW_NOTIFICATIONS: gettext_lazy("Follow the delivery of notifications"),
    Capability.READ_SCHOOL_LIST: gettext_lazy("Read the list of my school's children"),
}

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def action_label(code: str) -> str:
    """The words for an action code; never the code itself."""
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else _("Other operation")


def action_choices() -> list[tuple[str, str]]:
    """Every labelled action, by its words (the audit trail's filter)."""
    return sorted(((code, str(label)) for code, label in ACTION_LABELS.items()), key=lambda c: c[1])


def display_name(user: User | None) -> str:
    """Who did it, for the people who read the trail: the login's name (User.display_name), or
    the system itself."""
    if user is None:
        return _("System")
    return user.display_name


def whose_data(entry: AuditEntry) -> str:
    if entry.person is not None:
        return entry.person.full_name
    if entry.household is not None:
        return str(entry.household)
    return ""


def role_label(code: str) -> str:
    return str(StaffRole.Role(code).label) if code in StaffRole.Role.values else ""


def format_value(field: str, value) -> str:
    """A before/after value as a page shows it: French dates, words for codes."""
    if value in (None, ""):
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    text = str(value)
    if ISO_DATE.match(text):
        return formats.date_format(date.fromisoformat(text), "SHORT_DATE_FORMAT")
    if field == "category" and text in ReducedRateStatus.Category.values:
        return str(ReducedRateStatus.Category(text).label)
    return text


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


FIELD_ORDER = {field: index for index, field in enumerate(FIELD_LABELS)}


def changes_of(entry: AuditEntry) -> list[Change]:
    """The before/after of an entry in the order of a form (PostgreSQL's jsonb keeps no order)."""
    changes = sorted(
        (entry.changes or {}).items(), key=lambda item: FIELD_ORDER.get(item[0], len(FIELD_ORDER))
    )
    return [
        Change(
            field=str(FIELD_LABELS.get(field, field)),
            before=format_value(field, values[0]),
            after=format_value(field, values[1]),
        )
        for field, values in changes
    ]


RESULTS = re.compile(r"^(\d+) results$")
LIBRARY_EXPORT = re.compile(r"^(\d+) members on (\d{4}-\d{2}-\d{2}) \((\w+)\)$")
# A price grid: "<product's name>@<first day>".
PRICE_GRID = re.compile(r"^(.+)@(\d{4}-\d{2}-\d{2})$")
# A canteen service's day: "<service's public id>:<day>", and for the no-shows ":<how many>".
SERVICE_DAY = re.compile(r"^[\w-]+:(\d{4}-\d{2}-\d{2})(?::(\d+))?$")
# A meal ticked on the service's list: "<service>:<day>:<outcome>"; a search of the school's
# children there: "<service>:<day>:<how many> results".
SERVED_MEAL = re.compile(r"^[\w-]+:(\d{4}-\d{2}-\d{2}):(served|served_without_booking)$")
CHILDREN_FOUND = re.compile(r"^[\w-]+:(\d{4}-\d{2}-\d{2}):(\d+) results$")
SERVICE_DAY_ACTIONS = (
    "canteen.no_shows_recorded",
    "canteen.kitchen_list_opened",
    "canteen.service_list_opened",
    "canteen.serve_undone",
)
# Other apps store "<kind>:<public id>": the kind in words, the id kept as the reference.
REFERENCE_KINDS: dict[str, Promise] = {
    "payment": gettext_lazy("payment"),
    "document": gettext_lazy("document"),
    "order": gettext_lazy("order"),
    "reader": gettext_lazy("reader"),
    "access_point": gettext_lazy("access point"),
    "procedure": gettext_lazy("procedure file"),
    "absence": gettext_lazy("justified absence"),
    "vault": gettext_lazy("document of the safe"),
}
# Whose target is a bare public reference (an appointment's).
REFERENCE_ACTIONS: dict[str, Promise] = {
    "appointments.booked": gettext_lazy("appointment"),
}
# A canteen booking or cancellation: "<service>:<how many days>".
DAYS_OF_SERVICE = re.compile(r"^[\w-]+:(\d+)$")
# A canteen month billed: "<YYYY-MM>:<order>".
MONTH_BILLED = re.compile(r"^(\d{4})-(\d{2}):([\w-]+)$")


def detail(entry: AuditEntry) -> str:
    """What the entry was about, in a line: the before/after of a correction, else its
    reference in words where identity knows it (other apps store public references)."""
    words, reference = detail_parts(entry)
    return f"{words} {reference}" if reference else words


def detail_parts(entry: AuditEntry) -> tuple[str, str]:
    """`detail` as (words, public reference): a page shows the reference as a code."""
    kind, _colon, reference = entry.target.partition(":")
    if not entry.changes and kind in REFERENCE_KINDS and reference:
        return str(REFERENCE_KINDS[kind]), reference
    if entry.action in REFERENCE_ACTIONS and entry.target:
        return str(REFERENCE_ACTIONS[entry.action]), entry.target
    if entry.action == "canteen.month_billed" and (match := MONTH_BILLED.match(entry.target)):
        month = date(int(match.group(1)), int(match.group(2)), 1)
        return formats.date_format(month, "F Y"), match.group(3)
    return _detail_words(entry), ""


def _detail_words(entry: AuditEntry) -> str:
    changes = changes_of(entry)
    if changes:
        return " ; ".join(f"{c.field} : {c.before} → {c.after}" for c in changes)
    target = entry.target
    if entry.action in ("person.reduced_rate_recorded", "person.reduced_rate_ended"):
        return format_value("category", target)
    if (
        entry.action in ("household.member_added", "household.member_removed")
        and target in Person.Role.values
    ):
        return str(Person.Role(target).label)
    if entry.action == "staff.admin_data_viewed":
        return admin_page_words(target)
    if entry.action in ("staff.file_viewed",) and target == "household":
        return ""
    if entry.action in ("staff.role_granted", "staff.role_revoked"):
        role, _colon, account = target.partition(":")
        return " — ".join(filter(None, [role_label(role), account_name(account)]))
    if entry.action == "staff.second_factor_reset":
        return account_name(target.removeprefix("account:"))
    if match := RESULTS.match(target):
        count = int(match.group(1))
        return ngettext("%(count)d result", "%(count)d results", count) % {"count": count}
    if match := LIBRARY_EXPORT.match(target):
        count, day = int(match.group(1)), format_value("", match.group(2))
        return ngettext("%(count)d member on %(day)s", "%(count)d members on %(day)s", count) % {
            "count": count,
            "day": day,
        }
    if entry.action in ("tariff.grid_published", "tariff.grid_withdrawn") and (
        match := PRICE_GRID.match(target)
    ):
        return _("%(product)s, from %(day)s") % {
            "product": match.group(1),
            "day": format_value("", match.group(2)),
        }
    if entry.action in SERVICE_DAY_ACTIONS and (match := SERVICE_DAY.match(target)):
        day = format_value("", match.group(1))
        if match.group(2) is None:
            return day
        count = int(match.group(2))
        return ngettext("%(day)s: %(count)d absent", "%(day)s: %(count)d absent", count) % {
            "day": day,
            "count": count,
        }
    if entry.action in ("canteen.booked", "canteen.cancelled") and (
        match := DAYS_OF_SERVICE.match(target)
    ):
        count = int(match.group(1))
        return ngettext("%(count)d day", "%(count)d days", count) % {"count": count}
    if entry.action == "canteen.menus_published" and target.startswith("canteen.Menu:"):
        return ""
    if entry.action == "canteen.served" and (match := SERVED_MEAL.match(target)):
        day = format_value("", match.group(1))
        if match.group(2) == "served":
            return day
        return _("%(day)s, without booking") % {"day": day}
    if entry.action == "canteen.children_searched" and (match := CHILDREN_FOUND.match(target)):
        count = int(match.group(2))
        return ngettext("%(day)s: %(count)d result", "%(day)s: %(count)d results", count) % {
            "day": format_value("", match.group(1)),
            "count": count,
        }
    return target


def admin_page_words(label: str) -> str:
    """« Régimes » for "canteen.diet": the administration page's name, not its model's code."""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return label
    return capfirst(str(model._meta.verbose_name_plural))


def account_name(pk: str) -> str:
    """The person behind a staff account the trail refers to by its id."""
    user = User.objects.filter(pk=pk).first() if pk.isdigit() else None
    return user.display_name if user is not None else ""


def staff_label(entry: AuditEntry) -> str:
    """How a resident sees the staff member in their access log: role and first name only."""
    role = role_label(entry.actor_role)
    first_name = entry.actor.first_name if entry.actor else ""
    return f"{role} — {first_name}".strip(" —")


@dataclass(frozen=True)
class AccessRow:
    """One line of the resident's *Who looked at my file*."""

    entry: AuditEntry
    staff: str
    what: str
    why: str
    channel: str
    changes: list[Change]


def access_row(entry: AuditEntry) -> AccessRow:
    return AccessRow(
        entry=entry,
        staff=staff_label(entry),
        what=action_label(entry.action),
        why=entry.reason_label,
        channel=str(entry.get_channel_display()),
        changes=changes_of(entry),
    )


@dataclass(frozen=True)
class TrailRow:
    """One entry of the trail as administrators read it (page and spreadsheet alike)."""

    entry: AuditEntry
    who: str
    role: str
    what: str
    whose: str
    why: str
    channel: str
    detail: str  # in a line (the spreadsheet); a page shows these two:
    detail_words: str
    detail_reference: str


def trail_row(entry: AuditEntry) -> TrailRow:
    words, reference = detail_parts(entry)
    return TrailRow(
        entry=entry,
        who=display_name(entry.actor),
        role=role_label(entry.actor_role),
        what=action_label(entry.action),
        whose=whose_data(entry),
        why=entry.reason_label,
        channel=str(entry.get_channel_display()),
        detail=detail(entry),
        detail_words=words,
        detail_reference=reference,
    )
