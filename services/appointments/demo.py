"""The demo's appointment desks (idempotent): the Mairie de Cahors' passport and identity card
station (15-minute slots, two stations, the pre-application number asked) and its civil
status desk (30 minutes, one station), open on weekdays, closed on Christmas Day; Camille
Martin has an appointment at the civil status desk next week."""

from datetime import date, time, timedelta

from django.db import transaction
from django.utils import timezone

from identity.demo import RESIDENT_EMAIL
from identity.models import Facility, Person

from . import actions, queries
from .models import Appointment, Desk, DeskDay, OpeningPattern

DESKS = [
    {
        "name": "Passeports et cartes d'identité",
        "kind": Desk.Kind.IDENTITY,
        "slot_minutes": 15,
        "stations": 2,
        "needs_pre_application": True,
        "address": "Place François-Mitterrand, 46000 Cahors",
        "what_to_bring": (
            "Le numéro de pré-demande en ligne (ANTS), une photo d'identité de moins de six "
            "mois, un justificatif de domicile, l'ancien titre, le timbre fiscal pour un passeport."
        ),
        "hours": [(time(9), time(12)), (time(13, 30), time(17))],
    },
    {
        "name": "État civil",
        "kind": Desk.Kind.CIVIL_STATUS,
        "slot_minutes": 30,
        "stations": 1,
        "needs_pre_application": False,
        "address": "Place François-Mitterrand, 46000 Cahors",
        "what_to_bring": "Une pièce d'identité et le livret de famille.",
        "hours": [(time(9), time(12))],
    },
]


@transaction.atomic
def load() -> None:
    town_hall = Facility.objects.filter(kind=Facility.Kind.TOWN_HALL).order_by("pk").first()
    if town_hall is None:
        return
    for spec in DESKS:
        spec = dict(spec)
        hours = spec.pop("hours")
        desk, created = Desk.objects.get_or_create(
            facility=town_hall, name=spec.pop("name"), defaults=spec
        )
        if not created:
            continue
        for weekday in range(5):
            for starts, ends in hours:
                OpeningPattern.objects.create(desk=desk, weekday=weekday, starts=starts, ends=ends)
        christmas = date(timezone.localdate().year, 12, 25)
        DeskDay.objects.create(desk=desk, day=christmas, kind=DeskDay.Kind.CLOSED, reason="Noël")
    _camille_appointment()


def _camille_appointment() -> None:
    camille = Person.objects.filter(user__email=RESIDENT_EMAIL).first()
    desk = Desk.objects.filter(kind=Desk.Kind.CIVIL_STATUS).first()
    if camille is None or desk is None or Appointment.objects.filter(person=camille).exists():
        return
    today = timezone.localdate()
    slots = queries.slots_of(desk, today + timedelta(days=7), today + timedelta(days=14))
    if slots:
        actions.book_appointment(
            actor=camille.user, person=camille, desk=desk, starts_at=slots[0].starts_at
        )
