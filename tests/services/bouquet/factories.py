"""Files of the bouquet's procedures, made through the engine's actions."""

from services.procedures.actions import drafts, handling
from tests.factories import staff_user


def submit(type_key: str, resident, answers: dict):
    """A file of `type_key` for the resident with every step answered, submitted."""
    file = drafts.start_draft(actor=resident.user, type_key=type_key)
    for step in file.type.steps:
        values = {f.name: answers.get(f.name, file.data.get(f.name)) for f in step.fields}
        file = drafts.save_step(actor=resident.user, file=file, step=step.key, values=values)
    return drafts.submit(actor=resident.user, file=file)


def accept(file, clerk=None):
    clerk = clerk or staff_user("clerk")
    file = handling.transition(actor=clerk, file=file, key="take")
    return handling.transition(actor=clerk, file=file, key="accept")
