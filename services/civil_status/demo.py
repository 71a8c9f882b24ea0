"""Camille's civil-status requests: one done, one refused, one waiting for her answer."""

from services.procedures.demo import demo_people, document_of, has_files, play

from .procedures import KEY


def load() -> None:
    people = demo_people()
    if people is None or has_files(KEY, people[0]):
        return
    resident, clerk = people
    base = {
        "act": "birth",
        "last_name": "Martin",
        "first_names": "Léa",
        "event_date": "2015-06-21",
        "delivery": "email",
        "email": resident.user.email,
    }
    play(
        type_key=KEY,
        resident=resident,
        clerk=clerk,
        answers={**base, "copy": "extract_plain", "relationship": "ascendant"},
        path=(("take", ""), ("accept", ""), ("complete", "Extrait envoyé par e-mail.")),
    )
    play(
        type_key=KEY,
        resident=resident,
        clerk=clerk,
        answers={
            **base,
            "act": "marriage",
            "copy": "extract_plain",
            "relationship": "self",
            "first_names": "Camille",
            "event_date": "2012-07-14",
        },
        path=(
            (
                "refuse",
                "Ce mariage n’a pas été célébré à Cahors : adressez-vous à la "
                "mairie du lieu du mariage.",
            ),
        ),
    )
    identity = document_of(resident, "identity_document")
    if identity is None:
        return
    play(
        type_key=KEY,
        resident=resident,
        clerk=clerk,
        answers={
            **base,
            "copy": "full_copy",
            "relationship": "ascendant",
            "father_names": "Alex Martin",
            "mother_names": "Camille Martin",
            "identity": identity,
        },
        path=(("take", ""), ("ask", "Merci de préciser le lieu de naissance de Léa.")),
    )
