"""The one call other apps make wherever a document is asked for (the card request's photo,
procedures, canteen absences, school pre-enrolment): the resident picks a document from the
safe or uploads a new one, which goes into the safe, so it is never asked for twice; either
way it is shared with the app's file. documents_vault.forms.PickOrUploadForm is the matching
form (its template: documents_vault/_pick_or_upload.html)."""

from collections.abc import Iterable

from django.utils.translation import gettext as _

from identity.errors import DomainError
from identity.models import AuditEntry, Person, User

from .. import queries
from ..models import Share
from .sharing import FileRef, share_document
from .uploads import add_document


def attach_document(
    *,
    actor: User,
    person: Person,
    kinds: Iterable[str],
    target: FileRef,
    document_id: str | None = None,
    file_name: str = "",
    content: bytes | None = None,
    new_kind: str | None = None,
    expires_on=None,
    channel: str = AuditEntry.Channel.WEB,
) -> Share:
    """Wherever a document is asked for: the resident picks one of `person`'s documents of
    one of `kinds` from the safe (`document_id`), or uploads a new one (`file_name`,
    `content`, of kind `new_kind`, default the first of `kinds`) which goes into the safe, so
    that it is never asked for twice. Either way it is shared with `target`. Refusals name the
    field "document" (nothing picked, not theirs, expired) or "file" (the upload)."""
    kinds = [str(kind) for kind in kinds]
    if (document_id is None) == (content is None):
        raise DomainError(_("Pick a document from your safe or add a new one."), field="document")
    if document_id is not None:
        document = next(
            (
                candidate
                for candidate in queries.documents_for_picker(actor, person, kinds)
                if candidate.public_id == document_id
            ),
            None,
        )
        if document is None:
            raise DomainError(
                _("Pick one of this person's valid documents of the kind asked for."),
                field="document",
            )
    else:
        kind = new_kind or kinds[0]
        if kind not in kinds:
            raise DomainError(_("This kind of document is not the one asked for."), field="kind")
        document = add_document(
            actor=actor,
            person=person,
            kind=kind,
            file_name=file_name,
            content=content,
            expires_on=expires_on,
            channel=channel,
        )
    return share_document(actor=actor, document=document, target=target, channel=channel)
