"""The leisure centre and care during the school holidays, the summer included.

The rule: an enrolment is for a school year and counts until the next school year starts, so
July and August belong to the school year that ends (until 31 August when the next year is not
set up yet); a day of the holidays (a holiday period or the summer) is booked under the
service's holiday rule (`holiday_rule_days` days before, at `rule_time`), a school day under
its usual rule. The school year 2026-2027 ends on Saturday 3 July 2027; 2027-2028 starts on
Wednesday 1 September 2027."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from identity.errors import DomainError
from identity.models import StaffRole
from identity.schooling.actions import enrol_child
from identity.schooling.models import Level, SchoolYear
from services.canteen import actions
from services.canteen.models import Booking, Service
from tests.factories import staff_user
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

PARIS = ZoneInfo("Europe/Paris")
LAST_DAY_OF_CLASSES = date(2027, 7, 3)  # a Saturday
FIRST_OF_JULY = date(2027, 7, 1)  # a Thursday, still a school day
FIRST_DAY_OF_SUMMER = date(2027, 7, 5)  # the first Monday of the summer holidays
LAST_OF_AUGUST = date(2027, 8, 31)
FIRST_DAY_OF_CLASSES = date(2027, 9, 1)


def next_school_year() -> SchoolYear:
    return SchoolYear.objects.create(
        name="2027-2028", starts_on=FIRST_DAY_OF_CLASSES, ends_on=date(2028, 7, 1), zone="C"
    )


@pytest.fixture
def centre():
    """The leisure centre, open Monday to Saturday, in the holidays too: until 15:00 the day
    before, 15 days before during the holidays. A child enrolled for 2026-2027."""
    site = canteen_site()
    service = lunch(
        site,
        kind=Service.Kind.WEDNESDAY_CENTRE,
        weekdays="0,1,2,3,4,5",
        runs_in_holidays=True,
        holiday_rule_days=15,
    )
    guardian, child = enrolled_child(site)
    return guardian.user, child, service


def book(centre, day: date, at: datetime, key: str = "k"):
    user, child, service = centre
    with time_machine.travel(at, tick=False):
        return actions.book_days(actor=user, child=child, service=service, days=[day], key=key)


EARLY = datetime(2027, 6, 1, 10, 0, tzinfo=PARIS)  # before every deadline below


@pytest.mark.parametrize(
    "day", [FIRST_OF_JULY, LAST_DAY_OF_CLASSES, FIRST_DAY_OF_SUMMER, LAST_OF_AUGUST]
)
def test_the_enrolment_of_the_ending_year_counts_until_the_next_one_starts(centre, day):
    next_school_year()
    assert book(centre, day, EARLY).booked == [day]


def test_without_the_next_school_year_set_up_the_summer_counts_until_31_august(centre):
    assert book(centre, LAST_OF_AUGUST, EARLY, key="aug").booked == [LAST_OF_AUGUST]
    with pytest.raises(DomainError) as refused:
        book(centre, FIRST_DAY_OF_CLASSES, EARLY, key="sep")
    assert refused.value.code == "not_enrolled"


def test_the_first_day_of_classes_needs_the_new_years_enrolment(centre):
    user, child, service = centre
    year = next_school_year()
    with pytest.raises(DomainError) as refused:
        book(centre, FIRST_DAY_OF_CLASSES, EARLY, key="before")
    assert refused.value.code == "not_enrolled"
    enrol_child(
        actor=staff_user(StaffRole.Role.ADMIN),
        child=child,
        school=service.site.school,
        school_year=year,
        level=Level.CE2,
    )
    assert book(centre, FIRST_DAY_OF_CLASSES, EARLY, key="after").booked == [FIRST_DAY_OF_CLASSES]


@pytest.mark.parametrize(
    ("at", "accepted"),
    [
        (datetime(2027, 6, 20, 15, 0, 0, tzinfo=PARIS), True),
        (datetime(2027, 6, 20, 15, 0, 1, tzinfo=PARIS), False),
    ],
)
def test_a_summer_day_is_booked_under_the_holiday_rule(centre, at, accepted):
    """15 days before Monday 5 July at 15:00: Sunday 20 June 2027, 15:00:00 included."""
    if accepted:
        assert book(centre, FIRST_DAY_OF_SUMMER, at).booked == [FIRST_DAY_OF_SUMMER]
    else:
        with pytest.raises(DomainError) as refused:
            book(centre, FIRST_DAY_OF_SUMMER, at)
        assert "20 June 2027" in refused.value.message
        assert not Booking.objects.exists()


def test_the_last_day_of_classes_is_booked_under_the_usual_rule(centre):
    """Saturday 3 July is a school day: until Friday 2 July at 15:00, not 15 days before."""
    at = datetime(2027, 7, 2, 15, 0, tzinfo=PARIS)
    assert book(centre, LAST_DAY_OF_CLASSES, at).booked == [LAST_DAY_OF_CLASSES]


def test_a_service_that_does_not_run_in_the_holidays_refuses_the_summer(centre):
    _user, _child, service = centre
    next_school_year()
    service.runs_in_holidays = False
    service.save()
    with pytest.raises(DomainError) as refused:
        book(centre, FIRST_DAY_OF_SUMMER, EARLY)
    assert refused.value.code == "not_bookable"


def test_a_lunch_of_a_child_enrolled_elsewhere_next_year_is_refused_there():
    """The summer belongs to the ending year's school, not to any other."""
    site, other = canteen_site(), canteen_site("École Jean Moulin")
    service = lunch(other, runs_in_holidays=True, weekdays="0,1,2,3,4")
    guardian, child = enrolled_child(site)
    with (
        time_machine.travel(EARLY, tick=False),
        pytest.raises(DomainError) as refused,
    ):
        actions.book_days(
            actor=guardian.user, child=child, service=service, days=[FIRST_DAY_OF_SUMMER], key="x"
        )
    assert refused.value.code == "not_enrolled"
