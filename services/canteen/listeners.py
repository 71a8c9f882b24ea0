"""The canteen listens to a change of address (services.catalog.registry.announce_address_change)
and to a school closed for a day (identity.schooling.signals.school_closed).

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

from identity.models import Household, StaffRole
from identity.notifications import notify, notify_household
from identity.queries import current_address
from payments.money import format_cents

from . import prepayment
from .models import Booking
from .words import day_words


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
    notify_household(
        household_id=household.pk,
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


def school_closed(sender, *, closure, actor, **kwargs) -> None:
    """A school closed for a day, even the day before (a strike): its bookings of the day are
    not billed (billing leaves closed days out), and prepaid ones are refunded to the wallet
    now, in the closure's transaction. The bookings stay as they were, so that a closure
    withdrawn later leaves the days booked (billed then, like any day). Each family with a
    booking that day is told, with what it paid back."""
    bookings = Booking.objects.filter(day=closure.day, state=Booking.State.BOOKED)
    if closure.school_id is not None:
        bookings = bookings.filter(service__site__school_id=closure.school_id)
    bookings = list(bookings.select_related("service__site").order_by("household_id", "pk"))
    if not bookings:
        return
    by_household: dict[int, list[Booking]] = {}
    for booking in bookings:
        by_household.setdefault(booking.household_id, []).append(booking)
    with translation.override(settings.LANGUAGE_CODE):
        for household_id, booked in by_household.items():
            refunded = prepayment.refund(booked)
            _tell_closure(household_id, booked, closure, refunded)


def _tell_closure(household_id: int, bookings: list[Booking], closure, refunded: int) -> None:
    sites = ", ".join(sorted({booking.service.site.name for booking in bookings}))
    lines = [
        _(
            "%(site)s: no canteen or care on %(day)s (%(reason)s). The meals and care booked "
            "that day are not billed."
        )
        % {"site": sites, "day": day_words(closure.day), "reason": closure.reason}
    ]
    if refunded:
        lines.append(
            _("%(amount)s paid in advance for that day is back in your wallet.")
            % {"amount": format_cents(refunded)}
        )
    notify_household(
        household_id=household_id,
        topic="canteen.school_closed",
        subject=_("No canteen on %(day)s") % {"day": day_words(closure.day)},
        body="\n\n".join(lines),
        link=reverse("canteen:home"),
        dedupe_key=f"canteen.closed:{closure.pk}:{household_id}",
    )
