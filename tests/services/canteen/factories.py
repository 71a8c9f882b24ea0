"""A school year 2026-2027 (zone C) with its holidays, a school with a canteen site, its
services, and children enrolled there, for the canteen tests."""

from datetime import date, time

from identity.models import Facility, Person, StaffRole
from identity.schooling.actions import enrol_child
from identity.schooling.models import Level, SchoolHoliday, SchoolYear
from services.canteen.models import Booking, CanteenSite, Service
from tests.factories import FacilityFactory, guardian_and_child, staff_user


def school_year() -> SchoolYear:
    year, created = SchoolYear.objects.get_or_create(
        name="2026-2027",
        defaults={"starts_on": date(2026, 9, 1), "ends_on": date(2027, 7, 3), "zone": "C"},
    )
    if created:
        for name, start, resume in [
            ("Vacances de la Toussaint", date(2026, 10, 17), date(2026, 11, 2)),
            ("Vacances de Noël", date(2026, 12, 19), date(2027, 1, 4)),
            ("Vacances d'hiver", date(2027, 2, 20), date(2027, 3, 8)),
            ("Vacances de printemps", date(2027, 4, 17), date(2027, 5, 3)),
        ]:
            SchoolHoliday.objects.create(
                school_year=year, name=name, starts_on=start, classes_resume_on=resume
            )
    return year


def canteen_site(name: str = "Groupe scolaire Lucie Aubrac") -> CanteenSite:
    school = FacilityFactory(name=name, kind=Facility.Kind.SCHOOL)
    return CanteenSite.objects.create(school=school, name=f"Restaurant {name}")


def lunch(site: CanteenSite | None = None, **overrides) -> Service:
    """Lunch on Monday, Tuesday, Thursday and Friday, bookable until 15:00 the day before."""
    fields = {
        "kind": Service.Kind.LUNCH,
        "capacity": 120,
        "weekdays": "0,1,3,4",
        "rule": Service.Rule.DAYS_BEFORE,
        "rule_days": 1,
        "rule_time": time(15, 0),
    }
    fields.update(overrides)
    return Service.objects.create(site=site or canteen_site(), **fields)


def enrolled_child(site: CanteenSite) -> tuple[Person, Person]:
    """A guardian and their child enrolled in CE1 at the site's school for 2026-2027."""
    guardian, child = guardian_and_child(child_birth_date=date(2019, 3, 2))
    admin = staff_user(StaffRole.Role.ADMIN)
    enrol_child(
        actor=admin, child=child, school=site.school, school_year=school_year(), level=Level.CE1
    )
    return guardian, child


def served_without_booking(child: Person, service: Service, day: date) -> Booking:
    """A meal served on `day` to a child who had not booked it (billed at the penalty price),
    as the service's list records one."""
    return Booking.objects.create(
        child=child,
        household=child.household,
        service=service,
        day=day,
        state=Booking.State.SERVED,
        without_booking=True,
    )
