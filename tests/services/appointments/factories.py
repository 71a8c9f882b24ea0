"""Appointment desks for the tests: a town-hall desk open on weekdays 09:00–12:00 by default."""

from datetime import time

import factory

from identity.models import Facility
from services.appointments.models import Desk, DeskDay, OpeningPattern
from tests.factories import FacilityFactory


class DeskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Desk
        skip_postgeneration_save = True

    facility = factory.SubFactory(FacilityFactory, kind=Facility.Kind.TOWN_HALL, name="Mairie")
    name = factory.Sequence(lambda n: f"Guichet {n}")
    slot_minutes = 15
    stations = 1
    book_ahead_days = 60
    min_notice_minutes = 120
    cancel_notice_minutes = 60
    what_to_bring = "Une pièce d'identité."

    @factory.post_generation
    def hours(self, create, extracted, **kwargs):
        """Weekdays 09:00–12:00 unless `hours=[(weekday, starts, ends), …]` is given."""
        if not create:
            return
        for weekday, starts, ends in extracted or [(d, time(9), time(12)) for d in range(5)]:
            OpeningPattern.objects.create(desk=self, weekday=weekday, starts=starts, ends=ends)


def opening(desk, day, starts, ends):
    return DeskDay.objects.create(
        desk=desk, day=day, kind=DeskDay.Kind.OPEN, starts=starts, ends=ends
    )


def closure(desk, day):
    return DeskDay.objects.create(desk=desk, day=day, kind=DeskDay.Kind.CLOSED)
