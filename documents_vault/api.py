"""The document safe in the public API (residents by session or bearer token; staff read a
shared document's file with `?share=<share id>`). Ids are the documents' public ids."""

from datetime import date, datetime

from django.http import HttpResponse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from identity.api import ErrorOut
from identity.api_auth import session_or_token
from identity.api_types import Day
from identity.errors import DomainError, NotFound
from identity.models import AuditEntry, Person
from identity.permissions import person_of

from . import intake, queries
from .actions import access, uploads
from .models import DocumentKind
from .responses import file_response

router = Router(tags=["documents"])
API = AuditEntry.Channel.API
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
UPLOAD_ERRORS = {**ERRORS, 413: ErrorOut, 415: ErrorOut, 503: ErrorOut}


class VersionOut(Schema):
    id: str
    number: int
    name: str
    content_type: str
    size: int
    uploaded_at: datetime
    verification: str
    rejection_reason: str


class ShareOut(Schema):
    id: str
    file_kind: str
    file_label: str
    opened_at: datetime


class DocumentOut(Schema):
    id: str
    kind: str
    kind_label: str
    person_id: str
    person_first_name: str
    expires_on: date | None
    expired: bool
    verification: str
    added_at: datetime
    current: VersionOut | None
    pending_replacement: VersionOut | None
    shares: list[ShareOut]


def _version_out(version) -> VersionOut | None:
    if version is None:
        return None
    return VersionOut(
        id=version.public_id,
        number=version.number,
        name=version.original_name,
        content_type=version.content_type,
        size=version.size,
        uploaded_at=version.uploaded_at,
        verification=version.verification,
        rejection_reason=version.rejection_reason,
    )


def _document_out(row: queries.DocumentRow) -> DocumentOut:
    document = row.document
    return DocumentOut(
        id=document.public_id,
        kind=document.kind,
        kind_label=str(document.get_kind_display()),
        person_id=document.person.public_id,
        person_first_name=document.person.first_name,
        expires_on=document.expires_on,
        expired=row.expired,
        verification=row.verification,
        added_at=document.created_at,
        current=_version_out(row.current),
        pending_replacement=_version_out(row.pending),
        shares=[
            ShareOut(
                id=share.public_id,
                file_kind=share.target_kind,
                file_label=share.target_label,
                opened_at=share.opened_at,
            )
            for share in row.open_shares
        ],
    )


def _own_row(request, document_id: str) -> queries.DocumentRow:
    document = queries.document_for(request.auth, document_id)
    if document is None:
        raise access.refuse(
            actor=request.auth, public_id=document_id, why="not_theirs", channel=API
        )
    return queries.rows_for([document])[0]


@router.get(
    "/vault/documents",
    response={200: list[DocumentOut], 404: ErrorOut},
    auth=session_or_token,
    url_name="vault_documents",
)
def list_documents(request):
    if person_of(request.auth) is None:
        raise NotFound("This account has no household yet.")
    return [
        _document_out(row) for row in queries.rows_for(queries.documents_visible_to(request.auth))
    ]


@router.post(
    "/vault/documents",
    response={201: DocumentOut, **UPLOAD_ERRORS},
    auth=session_or_token,
    url_name="vault_documents",  # one address with the list: ninja names the path once
    summary="Add a document (multipart: file, kind, person_id, optional expires_on)",
)
def upload_document(
    request,
    kind: Form[str],
    person_id: Form[str],
    expires_on: Form[Day | None] = None,
    file: File[UploadedFile] = None,
):
    refused = intake.refusal(request)
    if refused is not None:
        raise refused
    if file is None:
        raise DomainError("Send the document in the field “file”.", field="file")
    if kind not in DocumentKind.values:
        raise DomainError("Unknown kind of document.", field="kind")
    owner = person_of(request.auth)
    person = (
        Person.objects.filter(public_id=person_id, household_id=owner.household_id).first()
        if owner is not None
        else None
    )
    if person is None:
        raise DomainError("Unknown member of your household.", field="person_id")
    try:
        document = uploads.add_document(
            actor=request.auth,
            person=person,
            kind=kind,
            file_name=file.name or "",
            content=file.read(),
            expires_on=expires_on,
            channel=API,
        )
    finally:
        file.close()
    return Status(201, _document_out(_own_row(request, document.public_id)))


@router.get(
    "/vault/documents/{document_id}",
    response={200: DocumentOut, 404: ErrorOut},
    auth=session_or_token,
    url_name="vault_document",
)
def get_document(request, document_id: str):
    return _document_out(_own_row(request, document_id))


@router.get(
    "/vault/documents/{document_id}/file",
    response={200: None, 404: ErrorOut, 503: ErrorOut},
    auth=session_or_token,
    url_name="vault_document_file",
    summary="Download the document's file (attachment); staff add ?share=<share id>",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file (PDF, JPEG or PNG), as an attachment.",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def download_document(request, document_id: str, share: str | None = None) -> HttpResponse:
    if share:
        decrypted = access.read_shared_document(
            actor=request.auth, share_public_id=share, document_public_id=document_id, channel=API
        )
    else:
        decrypted = access.download_own(actor=request.auth, public_id=document_id, channel=API)
    return file_response(decrypted)


@router.delete(
    "/vault/documents/{document_id}",
    response={204: None, 404: ErrorOut},
    auth=session_or_token,
    url_name="vault_document_delete",
)
def delete_document(request, document_id: str):
    row = _own_row(request, document_id)
    uploads.delete_document(actor=request.auth, document=row.document, channel=API)
    return Status(204, None)
