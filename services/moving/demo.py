"""Camille's change of address, a draft she has not sent yet."""

from datetime import timedelta

from django.utils import timezone

from services.procedures.demo import demo_people, document_of, has_files, play

from .procedures import KEY


def load() -> None:
    people = demo_people()
    if people is None or has_files(KEY, people[0]):
        return
    resident, clerk = people
    proof = document_of(resident, "proof_of_address")
    if proof is None:
        return
    play(
        type_key=KEY,
        resident=resident,
        clerk=clerk,
        answers={
            "new_address": {"line1": "3 quai Champollion", "postcode": "46000", "commune": "46042"},
            "moved_in": (timezone.localdate() + timedelta(days=20)).isoformat(),
            "proof_of_address": proof,
        },
        submit=False,
    )
