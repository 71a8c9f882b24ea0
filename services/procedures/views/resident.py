"""Residents: the catalogue of procedures, a form step by step (saved at each), the summary
before submitting, then the file: its timeline, messages with the clerk (documents from the
safe), the answer to a request for more information, and the outcome to download. The same
step and summary pages serve a clerk filling a file at the counter (actions decide who may)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from documents_vault.errors import DocumentUnreadable
from documents_vault.models import DocumentKind
from documents_vault.responses import file_response
from identity.errors import DomainError, Forbidden, NotFound
from identity.models import AuditEntry
from identity.views.decorators import resident_required

from .. import pdf, queries, web
from ..actions import drafts, handling
from ..actions.common import is_counter_clerk
from ..errors import AlreadyOpen, FieldErrors
from ..models import ProcedureFile
from ..types import By, State, procedure_type
from . import attachments

Channel = AuditEntry.Channel


@require_GET
def catalogue(request):
    words = request.GET.get("q", "")[:100]
    life_event = request.GET.get("evenement", "")
    return render(
        request,
        "procedures/catalogue.html",
        {
            "types": queries.catalogue(words=words, life_event=life_event),
            "life_events": queries.life_events(),
            "words": words,
            "life_event": life_event,
        },
    )


@require_GET
def type_page(request, type_key: str):
    """One procedure: what it is for, the documents to have at hand, the time to answer."""
    kind = procedure_type(type_key)
    if kind is None:
        raise Http404
    kinds = sorted(
        str(DocumentKind(k).label) for k in kind.document_kinds() if k in DocumentKind.values
    )
    last_day = kind.open_until(timezone.localdate()) if kind.open_until else None
    return render(
        request,
        "procedures/type.html",
        {"kind": kind, "document_kinds": kinds, "last_day": last_day},
    )


@login_required
@require_POST
def start(request, type_key: str):
    try:
        file = drafts.start_draft(actor=request.user, type_key=type_key)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("procedures:catalogue")
    return redirect(_next_step_url(file))


def _own_file(request, public_id: str) -> ProcedureFile:
    """The file the signed-in person may fill or follow: theirs, or the one a clerk opened at
    the counter."""
    file = queries.file_for_resident(request.user, public_id)
    if file is None:
        candidate = ProcedureFile.objects.filter(public_id=public_id).first()
        if candidate is not None and is_counter_clerk(request.user, candidate):
            return candidate
        raise Http404
    if file.type is None:
        raise Http404
    return file


def _next_step_url(file: ProcedureFile) -> str:
    steps = [step.key for step in file.type.steps]
    if file.step in steps and steps.index(file.step) + 1 < len(steps):
        return reverse("procedures:step", args=[file.public_id, steps[steps.index(file.step) + 1]])
    if file.step in steps:
        return reverse("procedures:summary", args=[file.public_id])
    return reverse("procedures:step", args=[file.public_id, steps[0]])


def _channel(request, file: ProcedureFile) -> str:
    return Channel.COUNTER if is_counter_clerk(request.user, file) else Channel.WEB


@login_required
@require_http_methods(["GET", "POST"])
def step(request, public_id: str, step_key: str):
    file = _own_file(request, public_id)
    if file.state != State.DRAFT:
        return redirect("procedures:file", public_id=file.public_id)
    kind = file.type
    current = kind.step(step_key)
    if current is None:
        raise Http404
    values, errors = dict(file.data), {}
    if request.method == "POST":
        posted, uploads = web.read_post(current, request.POST, request.FILES)
        try:
            file = drafts.save_step(
                actor=request.user,
                file=file,
                step=current.key,
                values=posted,
                uploads=uploads,
                channel=_channel(request, file),
            )
        except FieldErrors as refused:
            values, errors = {**file.data, **posted}, refused.errors
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("procedures:step", public_id=file.public_id, step_key=current.key)
        else:
            return redirect(_next_step_url(file))
    keys = [s.key for s in kind.steps]
    index = keys.index(current.key)
    return render(
        request,
        "procedures/step.html",
        {
            "file": file,
            "kind": kind,
            "step": current,
            "number": index + 1,
            "count": len(keys),
            "previous": keys[index - 1] if index else None,
            "rows": web.describe(
                current, file=file, actor=request.user, values=values, errors=errors
            ),
            "has_upload": any(f.kind == "document" for f in current.fields),
        },
        status=422 if errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def summary(request, public_id: str):
    file = _own_file(request, public_id)
    if file.state != State.DRAFT:
        return redirect("procedures:file", public_id=file.public_id)
    errors = {}
    if request.method == "POST":
        try:
            file = drafts.submit(actor=request.user, file=file, channel=_channel(request, file))
        except AlreadyOpen as refused:
            messages.error(request, refused.message)
            return redirect("procedures:file", public_id=refused.existing)
        except FieldErrors as refused:
            errors = refused.errors
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Your request is submitted."))
            if is_counter_clerk(request.user, file):
                return redirect("procedures:staff_file", public_id=file.public_id)
            return redirect("procedures:file", public_id=file.public_id)
    kind = file.type
    return render(
        request,
        "procedures/summary.html",
        {
            "file": file,
            "kind": kind,
            "sections": web.summary(file),
            "errors": errors,
            "due_days": kind.answer_days,
        },
        status=422 if errors else 200,
    )


@login_required
@require_POST
def delete_draft(request, public_id: str):
    file = _own_file(request, public_id)
    try:
        drafts.delete_draft(actor=request.user, file=file, channel=_channel(request, file))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("procedures:file", public_id=file.public_id)
    messages.success(request, _("The draft is deleted."))
    return redirect("procedures:mine")


@resident_required
@require_GET
def mine(request):
    return render(
        request, "procedures/mine.html", {"files": list(queries.files_of(request.user)[:100])}
    )


@login_required
@require_GET
def file_page(request, public_id: str):
    file = _own_file(request, public_id)
    if file.state == State.DRAFT:
        return redirect(_next_step_url(file))
    kind = file.type
    transitions = [t for t in kind.transitions if t.by == By.RESIDENT and file.state in t.sources]
    return render(
        request,
        "procedures/file.html",
        {
            "file": file,
            "kind": kind,
            "timeline": web.timeline(file, queries.resident_timeline(file), staff=False),
            "sections": web.summary(file),
            "transitions": transitions,
            "answer_expected": any(t.needs_message for t in transitions),
            "message_form": attachments.attachment_form(request, file),
            "has_outcome": file.state in (State.ACCEPTED, State.DONE)
            and kind.outcome_lines is not None,
        },
    )


@login_required
@require_POST
def message(request, public_id: str):
    file = _own_file(request, public_id)
    try:
        handling.send_message(
            actor=request.user,
            file=file,
            text=request.POST.get("text", ""),
            attachments=attachments.posted_attachments(request, file),
        )
    except (Forbidden, NotFound) as error:
        raise Http404 from error
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your message is sent."))
    return redirect("procedures:file", public_id=file.public_id)


@login_required
@require_POST
def resident_transition(request, public_id: str, key: str):
    file = _own_file(request, public_id)
    step_ = file.type.transition(key)
    if step_ is None or step_.by != By.RESIDENT:
        raise Http404
    try:
        handling.transition(
            actor=request.user,
            file=file,
            key=key,
            message=request.POST.get("text", ""),
            attachments=attachments.posted_attachments(request, file),
        )
    except (Forbidden, NotFound) as error:
        raise Http404 from error
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Done: the town hall is told."))
    return redirect("procedures:file", public_id=file.public_id)


@login_required
@require_GET
def outcome(request, public_id: str):
    file = _own_file(request, public_id)
    if file.state not in (State.ACCEPTED, State.DONE) or file.type.outcome_lines is None:
        raise Http404
    response = HttpResponse(pdf.outcome(file), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="demarche-{file.public_id}.pdf"'
    return response


@login_required
@require_GET
def attachment(request, public_id: str, document_id: str):
    """A document joined to the file's timeline, downloaded from the resident's safe."""
    file = _own_file(request, public_id)
    try:
        decrypted = handling.download_attachment(
            actor=request.user, file=file, document_id=document_id
        )
    except NotFound as error:
        raise Http404 from error
    except DocumentUnreadable as error:
        messages.error(request, error.message)
        return redirect("procedures:file", public_id=file.public_id)
    return file_response(decrypted)
