"""The next election (its deadline ahead) and Camille's registration, submitted."""

from datetime import timedelta

from django.utils import timezone

from services.procedures.demo import demo_people, document_of, has_files, play

from .models import Election
from .procedures import KEY


def load() -> None:
    today = timezone.localdate()
    if not Election.objects.filter(vote_on__gte=today).exists():
        vote = today + timedelta(days=90)
        vote += timedelta(days=(6 - vote.weekday()) % 7)  # a Sunday
        Election.objects.create(name="Élection municipale partielle", vote_on=vote)
    people = demo_people()
    if people is None or has_files(KEY, people[0]):
        return
    resident, clerk = people
    identity = document_of(resident, "identity_document")
    proof = document_of(resident, "proof_of_address")
    if identity is None or proof is None:
        return
    play(
        type_key=KEY,
        resident=resident,
        clerk=clerk,
        answers={
            "birth_place": "Cahors",
            "nationality": "french",
            "identity": identity,
            "proof_of_address": proof,
        },
    )
