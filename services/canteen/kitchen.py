"""The kitchen's list of a service and day, per class, and its counts, as data and as a
printable PDF (reportlab, in the staff member's language). It is final at the booking
deadline and shown from then on; opening it is a read of children's names, so it is audited."""

import io
from dataclasses import dataclass
from datetime import date

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from identity.actions.audit import record_audit_entry
from identity.errors import Conflict, Forbidden
from identity.models import AuditEntry, User
from identity.pdf import FONT, register_fonts
from identity.permissions import Capability, has_capability
from identity.schooling.calendar import school_calendar
from identity.schooling.models import Enrolment

from . import rules
from .models import Booking, Service


@dataclass(frozen=True)
class KitchenList:
    service: Service
    day: date
    # (class name, [child names]) sorted by class then name.
    classes: list[tuple[str, list[str]]]

    @property
    def count(self) -> int:
        return sum(len(children) for _name, children in self.classes)


def kitchen_list(*, actor: User, service: Service, day: date) -> KitchenList:
    """The children expected at `service` on `day`, per class (canteen staff of the school),
    from the booking deadline on (before it, the list is not final: Conflict "not_final")."""
    school = service.site.school
    if not has_capability(actor, Capability.VIEW_ATTENDANCE, facility=school):
        raise Forbidden(_("You cannot see the lists of this canteen."))
    calendar = school_calendar(school, day, day)
    if timezone.now() <= rules.deadline(service, day, calendar):
        raise Conflict(_("The list is final once bookings close."), code="not_final")
    bookings = list(
        Booking.objects.filter(
            service=service, day=day, state__in=[Booking.State.BOOKED, Booking.State.SERVED]
        ).select_related("child")
    )
    classes = dict(
        Enrolment.objects.filter(
            child_id__in=[b.child_id for b in bookings],
            school_year__starts_on__lte=day,
            school_year__ends_on__gte=day,
        ).values_list("child_id", "school_class__name")
    )
    per_class: dict[str, list[str]] = {}
    for booking in bookings:
        name = classes.get(booking.child_id) or _("No class yet")
        per_class.setdefault(name, []).append(booking.child.full_name)
    record_audit_entry(
        actor=actor,
        action="canteen.kitchen_list_opened",
        target=f"{service.public_id}:{day.isoformat()}",
        channel=AuditEntry.Channel.COUNTER,
    )
    return KitchenList(
        service=service,
        day=day,
        classes=[(name, sorted(children)) for name, children in sorted(per_class.items())],
    )


def kitchen_pdf(sheet: KitchenList) -> bytes:
    """The list as an A4 PDF: the total, then each class with its count and children."""
    register_fonts()
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    page.setTitle(f"{sheet.service} {sheet.day.isoformat()}")
    width, height = A4
    y = height - 20 * mm

    def line(text: str, size: int = 10, step: float = 5.5 * mm) -> None:
        nonlocal y
        if y < 20 * mm:
            page.showPage()
            y = height - 20 * mm
        page.setFont(FONT, size)
        page.drawString(18 * mm, y, text)
        y -= step

    service = sheet.service
    day_words = formats.date_format(sheet.day, "l j F Y")
    line(f"{service.site.name} — {service.get_kind_display()}", 14, 8 * mm)
    line(day_words, 12, 8 * mm)
    line(_("Total: %(count)s") % {"count": sheet.count}, 12, 10 * mm)
    for name, children in sheet.classes:
        line(f"{name} ({len(children)})", 11, 6.5 * mm)
        for child in children:
            line(f"    {child}")
        y -= 3 * mm
    page.showPage()
    page.save()
    return buffer.getvalue()
