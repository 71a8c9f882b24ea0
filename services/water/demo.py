"""Camille's water-meter reading, accepted (recorded)."""

from django.utils import timezone

from services.procedures.demo import demo_people, has_files, play

from .procedures import KEY


def load() -> None:
    people = demo_people()
    if people is None or has_files(KEY, people[0]):
        return
    resident, clerk = people
    play(
        type_key=KEY,
        resident=resident,
        clerk=clerk,
        answers={
            "meter_number": "CAH0046123",
            "index": 1284,
            "read_on": timezone.localdate().isoformat(),
        },
        path=(("take", ""), ("accept", "Relevé enregistré, merci.")),
    )
