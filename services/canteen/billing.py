"""The monthly bill of a household: every meal and care session of the month (served, booked
and not cancelled, taken without booking at the penalty price, or a PAI child's packed-meal day
at the service's packed-meal price) priced by the tariff engine on its day, with the engine's
explanation, as one order of payments (idempotent per household
and month) whose invoices are issued and numbered at once in each régie's gapless sequence,
payable online with the basket, by wallet or at the régie's desk. Days a school closed (even
late), cancelled bookings and absences a clerk accepted are not billed; an absence accepted
after the invoice was issued is a credit note (`absences`), never an edit."""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import DomainError, Forbidden
from identity.models import AuditEntry, Household, Person, User
from identity.notifications import notify
from identity.permissions import Capability, has_capability
from identity.schooling.calendar import school_calendar
from payments.actions.inputs import account_key
from payments.actions.invoices import issue_invoices
from payments.actions.orders import LineInput, create_order
from payments.fulfilment import register_fulfilment_handler
from payments.models import Channel, Order, Regie
from payments.money import format_cents
from services.catalog.actions import regie_of
from services.catalog.tariffs import quote

from .models import AbsenceReport, Booking, PrepaidMeal
from .pricing import meal_label, meal_product

logger = logging.getLogger(__name__)

HANDLER = "canteen.month"
BILLED_STATES = (Booking.State.BOOKED, Booking.State.SERVED, Booking.State.ABSENT)


@dataclass(frozen=True)
class BillLine:
    child: Person
    label: str
    explanation: str
    unit_price_cents: int
    days: tuple[date, ...]
    regie_id: int
    service: str  # its public id: an accepted absence finds its line by service and day


def _month(year: int, month: int) -> tuple[date, date]:
    if not 1 <= month <= 12:
        raise DomainError(_("Choose a month from 1 to 12."), field="month")
    first = date(year, month, 1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return first, last


def month_lines(household: Household, year: int, month: int) -> list[BillLine]:
    """The bill's lines: one per child, service, price and reason (a change of quotient in
    the month makes two lines), each with the days it counts."""
    first, last = _month(year, month)
    bookings = (
        Booking.objects.filter(
            household=household, day__gte=first, day__lte=last, state__in=BILLED_STATES
        )
        .exclude(absence_report__state=AbsenceReport.State.ACCEPTED)
        # Paid from the wallet at booking (a service on prepayment): not billed again.
        .exclude(
            Exists(PrepaidMeal.objects.filter(booking=OuterRef("pk"), refunded_at__isnull=True))
        )
        .select_related("child", "service__site__school", "service__product")
        .select_related("service__penalty_product", "service__packed_meal_product")
        .order_by("child_id", "service_id", "day")
    )
    calendars: dict[int, object] = {}
    grouped: dict[tuple, list[date]] = defaultdict(list)
    regies: dict[int, object] = {}
    for booking in bookings:
        service = booking.service
        school = service.site.school
        calendar = calendars.setdefault(school.pk, school_calendar(school, first, last))
        if booking.day in calendar.closures or booking.day in calendar.public:
            continue
        kind = {"without_booking": booking.without_booking, "packed_meal": booking.packed_meal}
        product = meal_product(service, **kind)
        regie = regies.setdefault(product.pk, regie_of(product))
        price = quote(product=product, person=booking.child, on=booking.day)
        label = meal_label(product, **kind)
        key = (booking.child, label, price.explanation, price.price_cents, regie.pk, service)
        grouped[key].append(booking.day)
    return [
        BillLine(child, label, explanation, cents, tuple(days), regie_id, service.public_id)
        for (child, label, explanation, cents, regie_id, service), days in grouped.items()
    ]


def month_key(household: Household, year: int, month: int) -> str:
    return f"canteen-month:{household.public_id}:{year}-{month:02d}"


def month_order(household: Household, year: int, month: int) -> Order | None:
    """The household's order for the month, once billed."""
    key = account_key(month_key(household, year, month), account=None, use="order")
    return Order.objects.filter(idempotency_key=key).first()


def bill_month(*, actor: User, household: Household, year: int, month: int) -> Order | None:
    """The household's order for the month with its invoices issued (the same ones if billed
    again); None when nothing is to be billed. For finance officers (the régie)."""
    if not has_capability(actor, Capability.VIEW_PAYMENTS):
        raise Forbidden(_("You cannot bill the canteen."))
    return _bill(actor=actor, household=household, year=year, month=month)


@transaction.atomic
def _bill(*, actor: User | None, household: Household, year: int, month: int) -> Order | None:
    """Billed once: a month already billed returns its order untouched (what changed since is
    corrected by credit notes); two runs at once meet on the order's unique key, then on the
    order row `issue_invoices` locks."""
    first, last = _month(year, month)
    if last >= timezone.localdate():
        raise DomainError(_("A month is billed once it is over."), field="month")
    existing = month_order(household, year, month)
    if existing is not None:
        issue_invoices(existing)  # a run stopped between the order and its invoices
        return existing
    lines = month_lines(household, year, month)
    if not lines:
        return None
    payer = (
        household.members.filter(role=Person.Role.ADULT, user__isnull=False).order_by("pk").first()
    )
    regies = {r.pk: r for r in Regie.objects.filter(pk__in={line.regie_id for line in lines})}
    order = create_order(
        buyer=None,
        payer=payer,
        channel=Channel.DESK,
        idempotency_key=month_key(household, year, month),
        lines=[
            LineInput(
                regie=regies[line.regie_id],
                label=line.label,  # the child is the line's beneficiary, named beside it
                handler=HANDLER,
                unit_price_cents=line.unit_price_cents,
                quantity=len(line.days),
                explanation=line.explanation,
                payload={
                    "days": [day.isoformat() for day in line.days],
                    "service": line.service,
                },
                beneficiary=line.child,
            )
            for line in lines
        ],
    )
    invoices = issue_invoices(order)
    record_audit_entry(
        actor=actor,
        action="canteen.month_billed",
        household=household,
        target=f"{year}-{month:02d}:{order.public_id}",
        channel=AuditEntry.Channel.COUNTER if actor is not None else AuditEntry.Channel.SYSTEM,
    )
    if payer is not None and payer.user_id is not None:
        _tell_payer(payer, invoices, first)
    return order


def _tell_payer(payer: Person, invoices, first: date) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        month_words = formats.date_format(first, "F Y")
        total = format_cents(sum(invoice.amount_cents for invoice in invoices))
        references = ", ".join(invoice.reference for invoice in invoices)
        notify(
            recipient=payer.user,
            topic="canteen.invoice_issued",
            subject=_("Canteen invoice for %(month)s") % {"month": month_words},
            body=_(
                "Your canteen and care invoice for %(month)s (%(references)s) is %(total)s. "
                "Pay it in Mon espace, from your wallet or at the régie's desk."
            )
            % {"month": month_words, "references": references, "total": total},
            link=reverse("payments:mine"),
            dedupe_key=f"canteen-invoice:{references}",
        )


def households_to_bill(year: int, month: int) -> list[Household]:
    first, last = _month(year, month)
    ids = (
        Booking.objects.filter(day__gte=first, day__lte=last, state__in=BILLED_STATES)
        .values_list("household_id", flat=True)
        .distinct()
    )
    return list(Household.objects.filter(pk__in=ids).order_by("pk"))


def bill_all(*, year: int, month: int) -> tuple[int, int]:
    """The monthly run (`manage.py canteen_bill_month`): every household with bookings in the
    month, each in its own transaction (one refusal does not stop the others). Returns how
    many orders exist for the month and how many households failed (logged by id)."""
    billed = failed = 0
    for household in households_to_bill(year, month):
        try:
            if _bill(actor=None, household=household, year=year, month=month) is not None:
                billed += 1
        except DomainError as error:
            failed += 1
            logger.warning(
                "canteen month not billed household=%s code=%s", household.pk, error.code
            )
    return billed, failed


def _nothing_to_deliver(line) -> None:
    """The meals were taken: paying the bill delivers nothing more, refunding takes nothing
    back (a correction is decided by a clerk, then refunded as a credit note)."""


def register() -> None:
    register_fulfilment_handler(HANDLER, fulfil=_nothing_to_deliver, undo=_nothing_to_deliver)
