"""The monthly bill of a household: every meal and care session of the month (served, booked
and not cancelled, or taken without booking at the penalty price) priced by the tariff engine
on its day, with the engine's explanation, as one order of payments (idempotent per household
and month), payable online with the basket, by wallet or at the régie's desk. Days a school
closed (even late) and cancelled bookings are not billed."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import DomainError, Forbidden
from identity.models import AuditEntry, Household, Person, User
from identity.permissions import Capability, has_capability
from identity.schooling.calendar import school_calendar
from payments.actions.orders import LineInput, create_order
from payments.fulfilment import register_fulfilment_handler
from payments.models import Channel, Order, Regie
from services.catalog.actions import regie_of
from services.catalog.tariffs import quote

from .models import Booking

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
        .select_related("child", "service__site__school", "service__product")
        .select_related("service__penalty_product")
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
        product = service.penalty_product if booking.without_booking else service.product
        if product is None:
            raise DomainError(
                _("%(service)s has no price: ask the town hall.") % {"service": service},
                code="no_tariff",
            )
        regie = regies.setdefault(product.pk, regie_of(product))
        price = quote(product=product, person=booking.child, on=booking.day)
        label = product.name
        if booking.without_booking:
            label = _("%(product)s (without booking)") % {"product": product.name}
        key = (booking.child, label, price.explanation, price.price_cents, regie.pk)
        grouped[key].append(booking.day)
    return [
        BillLine(child, label, explanation, cents, tuple(days), regie_id)
        for (child, label, explanation, cents, regie_id), days in grouped.items()
    ]


@transaction.atomic
def bill_month(*, actor: User, household: Household, year: int, month: int) -> Order | None:
    """The household's order for the month (the same one if billed again); None when nothing
    is to be billed. For finance officers (the régie)."""
    if not has_capability(actor, Capability.VIEW_PAYMENTS):
        raise Forbidden(_("You cannot bill the canteen."))
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
        idempotency_key=f"canteen-month:{household.public_id}:{year}-{month:02d}",
        lines=[
            LineInput(
                regie=regies[line.regie_id],
                label=f"{line.label} — {line.child.first_name}",
                handler=HANDLER,
                unit_price_cents=line.unit_price_cents,
                quantity=len(line.days),
                explanation=line.explanation,
                payload={"days": [day.isoformat() for day in line.days]},
                beneficiary=line.child,
            )
            for line in lines
        ],
    )
    record_audit_entry(
        actor=actor,
        action="canteen.month_billed",
        household=household,
        target=f"{year}-{month:02d}:{order.public_id}",
        channel=AuditEntry.Channel.COUNTER,
    )
    return order


def _nothing_to_deliver(line) -> None:
    """The meals were taken: paying the bill delivers nothing more, refunding takes nothing
    back (a correction is decided by a clerk, then refunded as a credit note)."""


def register() -> None:
    register_fulfilment_handler(HANDLER, fulfil=_nothing_to_deliver, undo=_nothing_to_deliver)
