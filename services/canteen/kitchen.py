"""The kitchen's list of a service and day, per class, with each child's diets (allergies
first), and its counts (the total and per diet), as data and as a printable PDF (reportlab, in
the staff member's language). It is final at the booking deadline and shown from then on;
opening it is a read of children's names and health data, so it is audited."""

import io
from dataclasses import dataclass
from datetime import date

from django.utils import timezone
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

from . import queries, rules
from .models import Booking, Diet, Service
from .words import day_words


@dataclass(frozen=True)
class KitchenDiet:
    kind: str
    label: str
    details: str

    @property
    def is_allergy(self) -> bool:
        return self.kind == Diet.Kind.ALLERGY_PAI

    def __str__(self) -> str:
        return f"{self.label} ({self.details})" if self.details else self.label


@dataclass(frozen=True)
class KitchenChild:
    name: str
    diets: list[KitchenDiet]
    # Brings a packed meal from home (PAI) that day: no lunch to cook for them.
    packed_meal: bool = False

    @property
    def has_allergy(self) -> bool:
        return any(diet.is_allergy for diet in self.diets)


@dataclass(frozen=True)
class KitchenList:
    service: Service
    day: date
    # (class name, [children]) sorted by class then name.
    classes: list[tuple[str, list[KitchenChild]]]
    # (diet label, how many children) in the order of Diet.Kind, diets nobody has left out.
    diet_counts: list[tuple[str, int]]

    @property
    def count(self) -> int:
        return sum(len(children) for _name, children in self.classes)

    @property
    def without_diet(self) -> int:
        return sum(1 for _n, children in self.classes for child in children if not child.diets)

    @property
    def packed_meals(self) -> int:
        return sum(1 for _n, children in self.classes for child in children if child.packed_meal)

    @property
    def meals_to_cook(self) -> int:
        return self.count - self.packed_meals


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
    classes = queries.classes_on([b.child_id for b in bookings], day)
    diets: dict[int, list[KitchenDiet]] = {}
    order = {kind: n for n, kind in enumerate(Diet.Kind.values)}
    for diet in sorted(
        Diet.objects.filter(child_id__in=[b.child_id for b in bookings]),
        key=lambda d: (d.kind != Diet.Kind.ALLERGY_PAI, order[d.kind]),  # allergies first
    ):
        diets.setdefault(diet.child_id, []).append(
            KitchenDiet(diet.kind, diet.get_kind_display(), diet.details)
        )
    per_class: dict[str, list[KitchenChild]] = {}
    counts = dict.fromkeys(Diet.Kind.values, 0)
    for booking in bookings:
        name = classes.get(booking.child_id) or _("No class yet")
        child_diets = diets.get(booking.child_id, [])
        per_class.setdefault(name, []).append(
            KitchenChild(booking.child.full_name, child_diets, booking.packed_meal)
        )
        for diet in child_diets:
            counts[diet.kind] += 1
    record_audit_entry(
        actor=actor,
        action="canteen.kitchen_list_opened",
        target=f"{service.public_id}:{day.isoformat()}",
        channel=AuditEntry.Channel.COUNTER,
    )
    return KitchenList(
        service=service,
        day=day,
        classes=queries.in_class_order(per_class),
        diet_counts=[(Diet.Kind(kind).label, n) for kind, n in counts.items() if n],
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
    day_in_words = day_words(sheet.day)
    line(f"{service.site.name} — {service.get_kind_display()}", 14, 8 * mm)
    line(day_in_words, 12, 8 * mm)
    line(_("Total: %(count)s") % {"count": sheet.count}, 12, 7 * mm)
    if sheet.packed_meals:
        line(_("Meals to cook: %(count)s") % {"count": sheet.meals_to_cook}, 11)
        line(_("Packed meals (PAI): %(count)s") % {"count": sheet.packed_meals}, 11)
    line(_("Without a diet: %(count)s") % {"count": sheet.without_diet}, 10)
    for label, count in sheet.diet_counts:
        line(_("%(diet)s: %(count)s") % {"diet": label, "count": count}, 10)
    y -= 4 * mm
    for name, children in sheet.classes:
        line(f"{name} ({len(children)})", 11, 6.5 * mm)
        for child in children:
            if child.diets:
                # An allergy is printed in capitals after "!!": it must catch the eye on paper.
                words = " ; ".join(str(d).upper() if d.is_allergy else str(d) for d in child.diets)
                mark = "!! " if child.has_allergy else ""
                if child.packed_meal:
                    words = f"{words} ; {_('packed meal (PAI)').upper()}"
                line(f"    {mark}{child.name} — {words}")
            else:
                line(f"    {child.name}")
        y -= 3 * mm
    page.showPage()
    page.save()
    return buffer.getvalue()
