"""Reads of the swimming lessons: places taken and left, a course's days, Mon espace's panel."""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from identity.models import Person
from identity.permissions import can_act_for

from .models import LessonBooking, LessonCourse, LessonSession

LIVE_STATUSES = (LessonBooking.Status.HELD, LessonBooking.Status.CONFIRMED)


def live_bookings(course: LessonCourse, *, now: datetime):
    """The bookings holding a place now: confirmed, or held and not past their time."""
    return LessonBooking.objects.filter(course=course).filter(
        Q(status=LessonBooking.Status.CONFIRMED)
        | Q(status=LessonBooking.Status.HELD, held_until__gt=now)
    )


def places_taken(course: LessonCourse, *, now: datetime, excluding: int | None = None) -> int:
    bookings = live_bookings(course, now=now)
    if excluding is not None:
        bookings = bookings.exclude(pk=excluding)
    return bookings.count()


def places_left(course: LessonCourse, *, now: datetime | None = None) -> int:
    return max(course.places - places_taken(course, now=now or timezone.now()), 0)


def first_session(course: LessonCourse) -> LessonSession | None:
    return course.sessions.order_by("starts_at").first()


def session_days(course: LessonCourse) -> list[date]:
    """The local days of the course's sessions, each once, in order."""
    days = {timezone.localdate(s) for s in course.sessions.values_list("starts_at", flat=True)}
    return sorted(days)


@dataclass(frozen=True)
class CourseOffer:
    course: LessonCourse
    sessions: list[LessonSession]
    places_left: int


def courses_on_sale(*, now: datetime | None = None) -> list[CourseOffer]:
    """Courses on sale whose first session is still to come, with their places left."""
    now = now or timezone.now()
    offers = []
    courses = LessonCourse.objects.filter(on_sale=True).select_related("facility", "product")
    for course in courses.prefetch_related("sessions"):
        sessions = sorted(course.sessions.all(), key=lambda s: s.starts_at)
        if not sessions or sessions[0].starts_at <= now:
            continue
        offers.append(CourseOffer(course, sessions, places_left(course, now=now)))
    return sorted(offers, key=lambda offer: offer.sessions[0].starts_at)


def bookings_of_household(person: Person, *, user=None):
    """The live bookings of the people this resident acts for (themself, their wards)."""
    household = person.household.members.all()
    people = [member for member in household if user is None or can_act_for(user, member)]
    return (
        LessonBooking.objects.filter(person__in=people, status__in=LIVE_STATUSES)
        .select_related("course", "course__facility", "person")
        .order_by("created_at")
    )


def panel_context(request, person: Person) -> dict:
    """Mon espace > My bookings: the household's swimming lessons (held or confirmed)."""
    now = timezone.now()
    bookings = [
        b
        for b in bookings_of_household(person, user=request.user)
        if b.status == LessonBooking.Status.CONFIRMED or b.held_until > now
    ]
    return {"lesson_bookings": bookings}


def holds_block_removal(person: Person, day: date) -> str | None:
    """identity's removal check: a lesson place waiting for its payment is paid or released
    first (a paid one is a booking the catalogue counts)."""
    held = LessonBooking.objects.filter(
        person=person, status=LessonBooking.Status.HELD, held_until__gt=timezone.now()
    )
    if not held.exists():
        return None
    return gettext("a swimming-lesson place awaits its payment (in the basket)")
