"""The demo's files, played through the actions as a resident and a clerk would (each service's
demo.py says which): so that the queue and the timeline have something to show."""

from documents_vault.models import Document
from identity.demo import RESIDENT_EMAIL
from identity.models import Person, User

from .actions import drafts, handling
from .models import ProcedureFile

CLERK_EMAIL = "accueil@demo.sesame.fr"


def demo_people() -> tuple[Person, User] | None:
    """Camille (the demo resident) and Paul (the demo clerk), once identity's demo is loaded."""
    resident = Person.objects.filter(user__email=RESIDENT_EMAIL).select_related("user").first()
    clerk = User.objects.filter(email=CLERK_EMAIL).first()
    if resident is None or clerk is None:
        return None
    return resident, clerk


def has_files(type_key: str, resident: Person) -> bool:
    return ProcedureFile.objects.filter(type_key=type_key, applicant=resident).exists()


def document_of(resident: Person, kind: str) -> str | None:
    document = (
        Document.objects.filter(person=resident, kind=kind, deleted_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    return document.public_id if document is not None else None


def play(
    *,
    type_key: str,
    resident: Person,
    clerk: User,
    answers: dict,
    path: tuple[tuple[str, str], ...] = (),
    submit: bool = True,
) -> ProcedureFile:
    """A file of `type_key`, its steps answered; submitted unless `submit` is False; then each
    (transition, message) of `path` by the clerk ("answer" and "withdraw" by the resident)."""
    file = drafts.start_draft(actor=resident.user, type_key=type_key)
    for step in file.type.steps:
        values = {f.name: answers.get(f.name, file.data.get(f.name)) for f in step.fields}
        file = drafts.save_step(actor=resident.user, file=file, step=step.key, values=values)
    if not submit:
        return file
    file = drafts.submit(actor=resident.user, file=file)
    for key, message in path:
        actor = resident.user if key in ("answer", "withdraw") else clerk
        file = handling.transition(actor=actor, file=file, key=key, message=message)
    return file
