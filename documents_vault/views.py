"""Pages of the document safe: Mes documents (the resident's), the clerks' verification
queue, staff reads through a shared file or with a reason. Thin: forms in, actions out,
refusals next to their field; files leave only through the views that check the right and log
the access (never a media URL)."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from identity.errors import DomainError, Forbidden, NotFound
from identity.forms import ReasonForm, show_domain_error
from identity.models import AuditEntry, Person
from identity.permissions import (
    can_manage_household,
    can_read_documents_with_reason,
    can_verify_documents,
)
from identity.queries import household_of_public_id
from identity.views.decorators import resident_required

from . import intake, queries
from .actions import access, sharing, uploads, verification
from .errors import DocumentUnreadable
from .forms import RejectForm, ReplaceForm, UploadForm, VerifyForm
from .models import DocumentVersion
from .responses import file_response

COUNTER = AuditEntry.Channel.COUNTER


def _unreadable(request, error: DocumentUnreadable):
    return render(
        request, "documents_vault/unreadable.html", {"message": error.message}, status=error.status
    )


def _members_for(request) -> list[Person]:
    """The members the resident files documents for: the household's for an adult."""
    person = request.person
    if can_manage_household(request.user, person.household):
        return list(person.household.members.all())
    return [person]


def _read_upload(form) -> tuple[str, bytes]:
    upload = form.cleaned_data["file"]
    try:
        return upload.name or "", upload.read()
    finally:
        upload.close()


def _list_page(request, form: UploadForm, *, status: int = 200):
    rows = queries.rows_for(queries.documents_visible_to(request.user))
    return render(
        request,
        "documents_vault/my_documents.html",
        {"rows": rows, "form": form, "members": _members_for(request)},
        status=status,
    )


@resident_required
@require_GET
def my_documents(request):
    return _list_page(request, UploadForm(members=_members_for(request), me=request.person))


@resident_required
@require_http_methods(["GET", "POST"])
def add(request):
    if request.method == "GET":
        return redirect("documents_vault:list")
    form = UploadForm(request.POST, request.FILES, members=_members_for(request))
    refused = intake.refusal(request)
    if refused is not None:
        form.is_valid()
        form.errors.pop("file", None)
        show_domain_error(form, refused)
        return _list_page(request, form, status=refused.status)
    if form.is_valid():
        name, content = _read_upload(form)
        try:
            document = uploads.add_document(
                actor=request.user,
                person=form.chosen_person(),
                kind=form.cleaned_data["kind"],
                file_name=name,
                content=content,
                expires_on=form.cleaned_data["expires_on"],
            )
        except DomainError as error:
            show_domain_error(form, error)
            return _list_page(request, form, status=error.status)
        messages.success(
            request,
            _("%(kind)s added to your documents.") % {"kind": document.get_kind_display()},
        )
        return redirect("documents_vault:list")
    return _list_page(request, form, status=400)


def _own_document(request, public_id: str):
    document = queries.document_for(request.user, public_id)
    if document is None:
        access.refuse(actor=request.user, public_id=public_id, why="not_theirs")
        raise Http404
    return document


def _detail_page(request, document, *, replace_form=None, status: int = 200):
    row = queries.rows_for([document])[0]
    newest = row.pending or row.current
    return render(
        request,
        "documents_vault/detail.html",
        {
            "row": row,
            "document": document,
            "shares": queries.shares_of(document),
            "events": queries.events_of(document),
            "replace_form": replace_form
            or ReplaceForm(initial={"replaces": newest.public_id if newest else ""}),
            "verification_target": queries.VERIFICATION_TARGET,
        },
        status=status,
    )


@resident_required
@require_GET
def detail(request, public_id: str):
    return _detail_page(request, _own_document(request, public_id))


def _send(request, read):
    """A file out of the safe through `read` (an access action that checks and logs), or the
    page saying why not."""
    if not request.user.is_authenticated:
        raise Http404
    try:
        decrypted = read()
    except NotFound as error:
        raise Http404 from error
    except DocumentUnreadable as error:
        return _unreadable(request, error)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("portal:home")
    return file_response(decrypted)


@resident_required
@require_GET
def download(request, public_id: str):
    return _send(request, lambda: access.download_own(actor=request.user, public_id=public_id))


@resident_required
@require_POST
def replace(request, public_id: str):
    document = _own_document(request, public_id)
    form = ReplaceForm(request.POST, request.FILES)
    refused = intake.refusal(request)
    if refused is not None:
        form.is_valid()
        form.errors.pop("file", None)
        show_domain_error(form, refused)
        return _detail_page(request, document, replace_form=form, status=refused.status)
    if not form.is_valid():
        return _detail_page(request, document, replace_form=form, status=400)
    name, content = _read_upload(form)
    try:
        version = uploads.replace_document(
            actor=request.user,
            document=document,
            file_name=name,
            content=content,
            replaces=form.cleaned_data["replaces"] or None,
            expires_on=form.cleaned_data["expires_on"],
        )
    except DomainError as error:
        show_domain_error(form, error)
        return _detail_page(request, document, replace_form=form, status=error.status)
    if version.state == DocumentVersion.State.PENDING:
        messages.success(
            request,
            _(
                "New version received. The verified one stays in use until the town hall "
                "checks the new one."
            ),
        )
    else:
        messages.success(request, _("The document was replaced by its new version."))
    return redirect("documents_vault:detail", public_id=document.public_id)


@resident_required
@require_http_methods(["GET", "POST"])
def delete(request, public_id: str):
    document = _own_document(request, public_id)
    if request.method == "POST":
        uploads.delete_document(actor=request.user, document=document)
        messages.success(
            request,
            _(
                "The document was deleted and its encryption key destroyed: "
                "it cannot be read again."
            ),
        )
        return redirect("documents_vault:list")
    return render(request, "documents_vault/delete.html", {"document": document})


@resident_required
@require_POST
def revoke_share(request, share_id: str):
    try:
        share = sharing.revoke_share(actor=request.user, share_public_id=share_id)
    except NotFound as error:
        access.refuse(actor=request.user, public_id=share_id, why="not_theirs")
        raise Http404 from error
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("documents_vault:list")
    messages.success(
        request,
        _("“%(file)s” no longer has access to this document.") % {"file": share.target_label},
    )
    return redirect("documents_vault:detail", public_id=share.document.public_id)


@resident_required
@require_GET
def export(request):
    archive = access.export_safe(actor=request.user)
    response = FileResponse(
        archive.file, as_attachment=True, filename=archive.filename, content_type="application/zip"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@resident_required
@require_GET
def information(request):
    return render(request, "documents_vault/information.html")


# --- Staff ---------------------------------------------------------------------------------


def verifier_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated or not can_verify_documents(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@verifier_required
@require_GET
def queue(request):
    return render(
        request,
        "documents_vault/queue.html",
        {"versions": list(queries.verification_queue()[:200])},
    )


def _review_page(request, version, *, verify_form=None, reject_form=None, status=200):
    document = version.document
    members = list(document.household.members.all())
    return render(
        request,
        "documents_vault/review.html",
        {
            "version": version,
            "document": document,
            "share": queries.open_verification_share(document),
            "verify_form": verify_form or VerifyForm(kind=document.kind, members=members),
            "reject_form": reject_form or RejectForm(),
        },
        status=status,
    )


def _waiting_version(request, version_id: str) -> DocumentVersion:
    version = (
        queries.verification_queue().filter(public_id=version_id).select_related("document").first()
    )
    if version is None:
        access.refuse(actor=request.user, public_id=version_id, why="not_waiting", channel=COUNTER)
        raise Http404
    return version


@verifier_required
@require_http_methods(["GET", "POST"])
def review(request, version_id: str):
    version = _waiting_version(request, version_id)
    document = version.document
    if request.method == "GET":
        return _review_page(request, version)
    members = list(document.household.members.all())
    if request.POST.get("decision") == "reject":
        form = RejectForm(request.POST)
        if form.is_valid():
            try:
                verification.reject(
                    actor=request.user,
                    version_public_id=version_id,
                    reason=form.cleaned_data["reason"],
                )
            except Forbidden as error:
                raise PermissionDenied from error
            except DomainError as error:
                show_domain_error(form, error)
            else:
                messages.success(request, _("The document was rejected; the resident is told why."))
                return redirect("documents_vault:queue")
        return _review_page(request, version, reject_form=form, status=400)
    form = VerifyForm(request.POST, kind=document.kind, members=members)
    if form.is_valid():
        try:
            verification.verify(
                actor=request.user,
                version_public_id=version_id,
                findings=verification.Findings(**form.cleaned_data),
            )
        except Forbidden as error:
            raise PermissionDenied from error
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, _("The document is verified."))
            return redirect("documents_vault:queue")
    return _review_page(request, version, verify_form=form, status=400)


@require_GET
def shared_file(request, share_id: str):
    """Staff read a document through a file it is shared with (the verification queue, a
    card request, a procedure…)."""
    return _send(
        request, lambda: access.read_shared_document(actor=request.user, share_public_id=share_id)
    )


@require_http_methods(["GET", "POST"])
def household_documents(request, household_id: str):
    """A clerk opens a household's documents outside any shared file: a reason first, audited
    like opening the file; each file read is audited with the same reason."""
    if not request.user.is_authenticated or not can_read_documents_with_reason(request.user):
        access.refuse(actor=request.user, public_id=household_id, why="no_capability")
        raise Http404
    household = household_of_public_id(household_id)
    if household is None:
        raise Http404
    form = ReasonForm(request.POST or None)
    rows = None
    if request.method == "POST" and form.is_valid():
        try:
            rows = access.open_household_documents(
                actor=request.user, household=household, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            show_domain_error(form, error)
    return render(
        request,
        "documents_vault/staff_household.html",
        {
            "form": form,
            "rows": rows,
            "reason": form.cleaned_data.get("reason") if rows is not None else "",
            "household_id": household_id,
            "file_url": reverse("identity:staff_file", args=[household_id]),
        },
    )


@require_POST
def file_with_reason(request, public_id: str):
    return _send(
        request,
        lambda: access.read_document_with_reason(
            actor=request.user, public_id=public_id, reason=request.POST.get("reason", "")
        ),
    )
