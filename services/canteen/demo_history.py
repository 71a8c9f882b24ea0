"""Last month at the demo's restaurant, so that a fresh demo has a canteen invoice to show
(billed by `demo_invoices`, after this): what a town brings from its previous system when it
moves to Sésame — last month's lunch bookings, imported — then the month's attendance marked
through the real actions, as the canteen agents and the clerk would have:

- each child tapped in at lunch on their booked days (`gate.serve_at_tap`);
- Léa served one day she was not booked for (billed at the penalty price);
- Tom, whose care plan says he brings a packed meal, on his packed-meal days from the middle of
  the month (before, the kitchen cooked his lunch);
- Tom missing one day, Léa another: the day's no-shows recorded (`gate.record_no_shows`); Léa's
  is justified by Camille with a medical certificate and accepted by the town-hall clerk
  (`absences`), so it is not billed; Tom's is.

When last month had no school day (the demo loaded in August or September, last month in the
summer holidays), nothing is imported and there is no invoice to show."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from documents_vault.demo import _demo_pdf
from identity.models import Person, User
from identity.schooling.calendar import school_calendar
from services.catalog.models import AccessPoint

from . import absences, gate, queries, rules
from .models import Booking, Service, ServiceDay

CLERK_EMAIL = "accueil@demo.sesame.fr"


def last_month(today: date) -> tuple[date, date]:
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def _school_days(service: Service, first: date, last: date) -> list[date]:
    """The days the service ran between `first` and `last` (`rules.why_not_running`)."""
    calendar = school_calendar(service.site.school, first, last)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [day for day in days if rules.why_not_running(service, day, calendar) is None]


def _at(day: date, hour: time) -> datetime:
    return datetime.combine(day, hour, tzinfo=timezone.get_default_timezone())


def _import_bookings(
    lunch: Service, children: dict[str, Person], days: list[date], parents: dict[str, User]
) -> None:
    """Last month's lunches as the previous system had them (an import: written here, not
    booked through the parents' actions, whose deadlines are long past). Léa was not booked on
    the month's third day; Tom brought a packed meal from the middle of the month."""
    rows = []
    for first_name, child in children.items():
        enrolled = queries.enrolled_days(child, lunch.site.school_id, days)
        for n, day in enumerate(days):
            if day not in enrolled or (first_name == "Léa" and n == 2):
                continue
            booked_at = _at(day - timedelta(days=7), time(20))
            rows.append(
                Booking(
                    child=child,
                    household_id=child.household_id,
                    service=lunch,
                    day=day,
                    booked_by=parents.get(first_name),
                    booked_at=booked_at,
                    changed_at=booked_at,
                    packed_meal=first_name == "Tom" and n >= len(days) // 2,
                )
            )
    Booking.objects.bulk_create(rows)
    counts: dict[date, int] = {}
    for row in rows:
        counts[row.day] = counts.get(row.day, 0) + 1
    ServiceDay.objects.bulk_create(
        [ServiceDay(service=lunch, day=day, booked=n) for day, n in counts.items()]
    )


def load(*, lunch: Service, children: dict[str, Person], parents: dict[str, User]) -> None:
    """Last month imported, served, its no-shows recorded and Léa's absence justified."""
    first, last = last_month(timezone.localdate())
    days = _school_days(lunch, first, last)
    if len(days) < 4:  # the summer holidays: nothing to show
        return
    _import_bookings(lunch, children, days, parents)
    school = lunch.site.school
    # The canteen's card reader (the catalogue's demo makes it; a canteen demo alone, here).
    entrance, _created = AccessPoint.objects.get_or_create(
        facility=school, name="Cantine", defaults={"kind": AccessPoint.Kind.ENTRANCE}
    )
    booked = set(Booking.objects.filter(service=lunch, day__in=days).values_list("child_id", "day"))
    missing = {("Tom", days[-2]), ("Léa", days[-1])}
    unbooked_meal = ("Léa", days[2])
    for day in days:
        for first_name, child in children.items():
            if (first_name, day) in missing:
                continue
            if (child.pk, day) in booked or (first_name, day) == unbooked_meal:
                at = _at(day, time(12, 5))
                gate.serve_at_tap(holder_id=child.pk, access_point=entrance, at=at)
        gate.record_no_shows(actor=None, service=lunch, day=day)
    _justify(children.get("Léa"), lunch, days[-1], parents.get("Léa"))


def _justify(child: Person | None, lunch: Service, day: date, parent: User | None) -> None:
    """Léa's absence: a medical certificate added by Camille, accepted by the clerk."""
    clerk = User.objects.filter(email=CLERK_EMAIL).first()
    booking = Booking.objects.filter(child=child, service=lunch, day=day, state="absent").first()
    if child is None or parent is None or clerk is None or booking is None:
        return
    report = absences.report_absence(
        actor=parent,
        booking=booking,
        file_name="certificat-lea.pdf",
        content=_demo_pdf(
            "Certificat médical",
            [child.full_name, f"Absente le {day.strftime('%d/%m/%Y')} (gastro-entérite)"],
        ),
    )
    absences.decide_absence(actor=clerk, report=report, accept=True)
