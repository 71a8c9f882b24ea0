"""The document a message carries, on the pages of both sides: the same pick-or-upload form
for the resident (their safe's documents) and for a clerk (the file's shared documents)."""

from django.utils.translation import gettext as _

from documents_vault import intake
from documents_vault import queries as vault_queries
from documents_vault.forms import PickOrUploadForm
from documents_vault.models import DocumentKind
from identity.errors import DomainError

from ..actions.common import is_applicant
from ..actions.handling import Attachment
from ..models import SHARE_KIND, ProcedureFile


def attachment_form(
    request, file: ProcedureFile, data=None, files=None, *, html_id: str = "attachment"
) -> PickOrUploadForm:
    """The document a message may carry, the same form on both sides: the resident picks one
    of their documents, a clerk one the file shares; either may add a new file, which goes
    into the resident's safe. No document is the default."""
    if is_applicant(request.user, file):
        documents = vault_queries.documents_for_picker(
            request.user, file.applicant, DocumentKind.values
        )
    else:
        documents = [
            share.document
            for share in vault_queries.open_shares_for_file(SHARE_KIND, file.public_id)
        ]
    # One page may hold several (a form per state change): `html_id` keeps their ids apart.
    form = PickOrUploadForm(
        data, files, documents=documents, prefix="attachment", auto_id=f"id_{html_id}_%s"
    )
    form.fields["document"].required = False
    form.fields["document"].choices = [("", _("No document")), *form.fields["document"].choices]
    form.fields["document"].initial = ""
    return form


def posted_attachments(request, file: ProcedureFile) -> list:
    """The document posted with a message, if any (a refusal names the field "document", or
    "file" when the safe's intake refused the upload while receiving it: too large, a
    dangerous name)."""
    refused = intake.refusal(request)
    if refused is not None:
        raise refused
    form = attachment_form(request, file, request.POST, request.FILES)
    if not form.is_valid():
        raise DomainError(
            next(iter(form.errors.values()))[0] if form.errors else _("Check the document."),
            field="document",
        )
    if not form.cleaned_data.get("document"):
        return []
    return [Attachment(**form.pick())]
