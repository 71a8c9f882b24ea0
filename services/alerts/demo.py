"""Camille's téléalerte sign-ups: a first one withdrawn, the second in review."""

from services.procedures.demo import demo_people, has_files, play

from .procedures import KEY


def load() -> None:
    people = demo_people()
    if people is None or has_files(KEY, people[0]):
        return
    resident, clerk = people
    answers = {"phones": [{"phone": "06 12 34 56 78"}], "consent": True}
    play(type_key=KEY, resident=resident, clerk=clerk, answers=answers, path=(("withdraw", ""),))
    play(
        type_key=KEY,
        resident=resident,
        clerk=clerk,
        answers={
            "phones": [{"phone": "06 12 34 56 78"}, {"phone": "05 65 20 88 88"}],
            "consent": True,
        },
        path=(("take", ""),),
    )
