"""The service's list on the day (Agents > Cantine > a service > « Service »): the children
booked, per class, each marked served or not, and those served without booking; and the search
for a child enrolled at the school to serve without booking. Both read children's names, so
each is audited (the ticks themselves are actions of `gate`)."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Q
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import DomainError, Forbidden
from identity.models import AuditEntry, Person, User
from identity.permissions import Capability, has_capability
from identity.schooling.models import Enrolment

from . import queries
from .models import Booking, Service

# The most children a search lists: it finds a child by name, it does not browse the school.
MAX_FOUND = 20


@dataclass(frozen=True)
class ListedChild:
    public_id: str
    name: str
    state: str  # Booking.State: booked, served or absent
    without_booking: bool

    @property
    def served(self) -> bool:
        return self.state == Booking.State.SERVED


@dataclass(frozen=True)
class ServiceList:
    service: Service
    day: date
    # (class name, [children]) sorted by class then name.
    classes: list[tuple[str, list[ListedChild]]]

    @property
    def children(self) -> list[ListedChild]:
        return [child for _name, children in self.classes for child in children]

    @property
    def served(self) -> int:
        return sum(1 for child in self.children if child.served)

    @property
    def waiting(self) -> int:
        return sum(1 for child in self.children if child.state == Booking.State.BOOKED)


def _check_staff(actor: User, service: Service) -> None:
    if not has_capability(actor, Capability.VIEW_ATTENDANCE, facility=service.site.school):
        raise Forbidden(_("You cannot see the lists of this canteen."))


def service_list(*, actor: User, service: Service, day: date) -> ServiceList:
    """The children of `service` on `day` (booked, served, absent), per class (audited)."""
    _check_staff(actor, service)
    bookings = list(
        Booking.objects.filter(
            service=service,
            day=day,
            state__in=[Booking.State.BOOKED, Booking.State.SERVED, Booking.State.ABSENT],
        ).select_related("child")
    )
    classes = queries.classes_on([b.child_id for b in bookings], day)
    per_class: dict[str, list[ListedChild]] = {}
    for booking in bookings:
        name = classes.get(booking.child_id) or _("No class yet")
        per_class.setdefault(name, []).append(
            ListedChild(
                public_id=booking.child.public_id,
                name=booking.child.full_name,
                state=booking.state,
                without_booking=booking.without_booking,
            )
        )
    record_audit_entry(
        actor=actor,
        action="canteen.service_list_opened",
        target=f"{service.public_id}:{day.isoformat()}",
        channel=AuditEntry.Channel.COUNTER,
    )
    return ServiceList(
        service=service,
        day=day,
        classes=queries.in_class_order(per_class),
    )


@dataclass(frozen=True)
class FoundChild:
    public_id: str
    name: str
    class_name: str


def find_children(*, actor: User, service: Service, day: date, name: str) -> list[FoundChild]:
    """The children enrolled at the service's school on `day` whose first or last name holds
    every word of `name` (at least two letters), by name (audited)."""
    _check_staff(actor, service)
    words = name.split()
    if sum(len(word) for word in words) < 2:
        raise DomainError(_("Type at least two letters of the child's name."), field="nom")
    matching = Q()
    for word in words:
        matching &= Q(child__first_name__icontains=word) | Q(child__last_name__icontains=word)
    enrolments = (
        Enrolment.objects.filter(
            matching,
            school_id=service.site.school_id,
            school_year__starts_on__lte=day,
            school_year__ends_on__gte=day,
            child__role=Person.Role.CHILD,
        )
        .select_related("child", "school_class")
        .order_by("child__last_name", "child__first_name", "child_id")[:MAX_FOUND]
    )
    found = [
        FoundChild(
            public_id=e.child.public_id,
            name=e.child.full_name,
            class_name=e.school_class.name if e.school_class else _("No class yet"),
        )
        for e in enrolments
    ]
    record_audit_entry(
        actor=actor,
        action="canteen.children_searched",
        target=f"{service.public_id}:{day.isoformat()}:{len(found)} results",
        channel=AuditEntry.Channel.COUNTER,
    )
    return found
