"""The canteen listens to a change of address (services.catalog.registry.announce_address_change).

A move changes two things a town's canteen cares about: the price (meals are priced by the
tariff engine on each day's residency, so a household leaving the territory pays the
non-resident price from the moving day, and one arriving the resident price), and the site
(a child moving across town often changes school). Nothing is cancelled on the family's
behalf: the parents are told what changes for their bookings, and the canteen agents of each
site where a child is still booked after the move are told to expect a change."""

from datetime import date, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from identity.models import Household, Person, StaffRole
from identity.notifications import notify
from identity.queries import current_address

from .models import Booking


def _in_territory(household: Household, day: date) -> bool | None:
    address = current_address(household, on=day)
    return None if address is None else address.commune.is_member


def household_moved(household: Household, since: date) -> None:
    bookings = list(
        Booking.objects.filter(household=household, day__gte=since, state=Booking.State.BOOKED)
        .select_related("service__site__school")
        .order_by("day")
    )
    before, after = (
        _in_territory(household, since - timedelta(days=1)),
        _in_territory(household, since),
    )
    if not bookings and before == after:
        return  # no meal booked after the move and the same price: nothing changes
    with translation.override(settings.LANGUAGE_CODE):
        _tell_parents(household, since, bookings, before=before, after=after)
        _tell_sites(household, since, bookings)


def _tell_parents(household, since, bookings, *, before, after) -> None:
    day = since.strftime("%d/%m/%Y")
    lines = []
    if before and after is False:
        lines.append(
            _(
                "Your new address is outside the territory: from %(day)s, meals and care are "
                "priced at the non-resident rate."
            )
            % {"day": day}
        )
    elif before is False and after:
        lines.append(
            _("Your new address is in the territory: from %(day)s, the resident rate applies.")
            % {"day": day}
        )
    if bookings:
        lines.append(
            ngettext(
                "%(count)s booking after %(day)s stays as it is. If your child changes school, "
                "cancel it and book at the new school's canteen.",
                "%(count)s bookings after %(day)s stay as they are. If your child changes "
                "school, cancel them and book at the new school's canteen.",
                len(bookings),
            )
            % {"count": len(bookings), "day": day}
        )
    adults = Person.objects.filter(
        household=household, role=Person.Role.ADULT, user__isnull=False
    ).select_related("user")
    for adult in adults:
        notify(
            recipient=adult.user,
            topic="canteen.household_moved",
            subject=_("Your move and the school canteen"),
            body="\n\n".join(lines),
            link=reverse("portal:home"),
            dedupe_key=f"canteen.moved:{household.pk}:{since.isoformat()}",
        )


def _tell_sites(household, since, bookings) -> None:
    """Each site where a child is booked after the move: its canteen agents, by email."""
    sites = {}
    for booking in bookings:
        sites.setdefault(booking.service.site, set()).add(booking.child)
    for site, children in sites.items():
        agents = StaffRole.objects.filter(
            role=StaffRole.Role.CANTEEN_AGENT, facility=site.school, revoked_at__isnull=True
        ).select_related("user")
        names = ", ".join(sorted(child.full_name for child in children))
        for role in agents:
            notify(
                recipient=role.user,
                topic="canteen.bookings_after_move",
                subject=_("%(site)s: a family moves on %(day)s")
                % {"site": site.name, "day": since.strftime("%d/%m/%Y")},
                body=_(
                    "%(names)s move on %(day)s and are still booked at %(site)s after that "
                    "day: their school may change."
                )
                % {"names": names, "day": since.strftime("%d/%m/%Y"), "site": site.name},
                dedupe_key=f"canteen.moved:{household.pk}:{since.isoformat()}:{site.pk}",
            )
