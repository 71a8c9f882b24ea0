"""The demo's swimming lessons (idempotent; after the catalogue's demo, which creates the lesson
products and their prices): a 5-session learn-to-swim course at the Piscine de Cahors with 8
places, and a single aqua-gym session at the Piscine de Pradines with 12 places, both starting
next week so that they can be booked."""

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from identity.models import Facility
from services.catalog.models import Product

from .models import LessonCourse, LessonSession

# name, pool, product code, places, weekday (0 Monday), start, minutes, sessions (weekly)
COURSES = [
    (
        "Stage d'apprentissage enfants",
        "Piscine de Cahors",
        "piscine-stage-natation",
        8,
        2,
        time(14),
        45,
        5,
    ),
    ("Aquagym du samedi", "Piscine de Pradines", "piscine-aquagym", 12, 5, time(9), 50, 1),
]


def next_weekday(weekday: int, at: time) -> datetime:
    """The first such weekday from next week on, at `at` local time."""
    today = timezone.localdate()
    day = today + timedelta(days=7 + (weekday - today.weekday()) % 7)
    return datetime.combine(day, at, tzinfo=timezone.get_default_timezone())


@transaction.atomic
def load() -> None:
    for name, pool, code, places, weekday, at, minutes, sessions in COURSES:
        facility = Facility.objects.filter(name=pool, kind=Facility.Kind.POOL).first()
        product = Product.objects.filter(code=code).first()
        if facility is None or product is None:
            continue
        course, created = LessonCourse.objects.get_or_create(
            name=name, facility=facility, defaults={"product": product, "places": places}
        )
        if not created:
            continue
        first = next_weekday(weekday, at)
        for week in range(sessions):
            starts = first + timedelta(weeks=week)
            LessonSession.objects.create(
                course=course, starts_at=starts, ends_at=starts + timedelta(minutes=minutes)
            )
