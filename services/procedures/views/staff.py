"""Staff: the queue of their service (filters: type, state, late first, assigned to me), a
file (answers, shared documents while it is open, timeline with internal comments,
assignment, transitions with a message to the resident), bulk changes, the CSV export for the
service's statistics, and the counter (a clerk submits for a resident who consents, then
prints the receipt)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from documents_vault.models import Share
from identity.actions.staff import search_residents
from identity.errors import DomainError
from identity.models import AccessReason, AuditEntry, Person, User
from identity.permissions import Capability, has_capability
from identity.spreadsheets import csv_response
from services.catalog import registry

from .. import pdf, queries, web
from ..actions import counter, handling, outputs
from ..actions.common import SHARE_KIND
from ..models import ProcedureFile
from ..types import STATE_LABELS, By, State, procedure_type
from . import attachments

Channel = AuditEntry.Channel


def _handler_required(request) -> list:
    if not request.user.is_authenticated:
        raise PermissionDenied
    kinds = queries.handled_types(request.user)
    if not kinds:
        raise PermissionDenied
    return kinds


def _service_name(key: str) -> str:
    service = registry.service(key)
    return str(service.name) if service is not None else key


def _filters(request, kinds) -> queries.QueueFilters:
    services = sorted({k.service for k in kinds})
    service = request.GET.get("service", "")
    return queries.QueueFilters(
        service=service if service in services else "",
        type_key=request.GET.get("type", "") if procedure_type(request.GET.get("type", "")) else "",
        state=request.GET.get("state", ""),
        mine=request.GET.get("mine") == "1",
        late_first=request.GET.get("order", "late") == "late",
        words=request.GET.get("q", "")[:100],
        closed=request.GET.get("closed") == "1",
    )


@login_required
@require_GET
def queue(request):
    kinds = _handler_required(request)
    filters = _filters(request, kinds)
    files = list(queries.queue(request.user, filters)[:200])
    bulk = {}
    for kind in kinds:
        for step in kind.transitions:
            if step.by == By.STAFF:
                bulk.setdefault(step.key, step.label)
    return render(
        request,
        "procedures/staff_queue.html",
        {
            "files": files,
            "filters": filters,
            "services": [(key, _service_name(key)) for key in sorted({k.service for k in kinds})],
            "kinds": kinds,
            "states": [(code, label) for code, label in STATE_LABELS.items() if code != "draft"],
            "bulk_transitions": list(bulk.items()),
            "query": request.GET.urlencode(),
        },
    )


@login_required
@require_POST
def bulk(request):
    _handler_required(request)
    ids = request.POST.getlist("files")[:200]
    files = ProcedureFile.objects.filter(public_id__in=ids)
    outcome = handling.bulk_transition(
        actor=request.user,
        files=files,
        key=request.POST.get("transition", ""),
        message=request.POST.get("text", ""),
    )
    if outcome.done:
        messages.success(request, _("%(count)s file(s) changed.") % {"count": len(outcome.done)})
    for reason in sorted(set(outcome.refused.values())):
        messages.error(request, reason)
    if not ids:
        messages.error(request, _("Tick the files to change first."))
    return redirect(reverse("procedures:queue") + "?" + request.POST.get("query", ""))


@login_required
@require_GET
def export(request):
    kinds = _handler_required(request)
    filters = _filters(request, kinds)
    files = list(queries.queue(request.user, filters)[:20000])
    handling.record_export(actor=request.user, count=len(files))
    rows = [
        [
            f.public_id,
            f.name,
            _service_name(f.service_key),
            f.state_label(staff=True),
            str(f.get_channel_display()),
            f.submitted_at.strftime("%d/%m/%Y") if f.submitted_at else "",
            f.due_on.strftime("%d/%m/%Y") if f.due_on else "",
            f.closed_at.strftime("%d/%m/%Y") if f.closed_at else "",
            _("yes") if f.is_late() else _("no"),
            f.assigned_to.display_name if f.assigned_to else "",
        ]
        for f in files
    ]
    # Statistics, not a list of people: the file's reference, never the resident's name.
    return csv_response(
        filename="demarches.csv",
        header=[
            _("Reference"),
            _("Procedure"),
            _("Service"),
            _("Status"),
            _("Channel"),
            _("Submitted on"),
            _("Answer due on"),
            _("Closed on"),
            _("Late"),
            _("Assigned to"),
        ],
        rows=rows,
    )


def _staff_file(request, public_id: str) -> ProcedureFile:
    if not request.user.is_authenticated:
        raise PermissionDenied
    file = queries.file_for_staff(request.user, public_id)
    if file is None:
        raise Http404
    return file


@login_required
@require_GET
def staff_file(request, public_id: str):
    file = _staff_file(request, public_id)
    if file.state == State.DRAFT:
        return redirect("procedures:summary", public_id=file.public_id)
    handling.open_for_staff(actor=request.user, file=file, channel=Channel.COUNTER)
    kind = file.type
    shares = Share.objects.filter(target_kind=SHARE_KIND, target_id=file.public_id).select_related(
        "document", "document__person"
    )
    return render(
        request,
        "procedures/staff_file.html",
        {
            "file": file,
            "kind": kind,
            "sections": web.summary(file),
            "timeline": web.timeline(file, queries.staff_timeline(file), staff=True),
            "shares": list(shares),
            "transitions": [
                (t, attachments.attachment_form(request, file, html_id=t.key))
                for t in kind.transitions
                if t.by == By.STAFF and file.state in t.sources
            ],
            "colleagues": queries.colleagues(file),
            "message_form": attachments.attachment_form(request, file),
            "booking": _booking(file),
            "service_name": _service_name(file.service_key),
        },
    )


def _booking(file: ProcedureFile) -> dict | None:
    """What accepting the file books, and the times to choose from (only while it may be
    accepted)."""
    if file.state not in (State.SUBMITTED, State.IN_REVIEW):
        return None
    output, openings = outputs.booking_openings(file)
    if output is None:
        return None
    return {"label": output.label, "openings": openings, "days": output.days}


def _back(file: ProcedureFile):
    return redirect("procedures:staff_file", public_id=file.public_id)


@login_required
@require_POST
def staff_transition(request, public_id: str, key: str):
    file = _staff_file(request, public_id)
    try:
        handling.transition(
            actor=request.user,
            file=file,
            key=key,
            message=request.POST.get("text", ""),
            attachments=attachments.posted_attachments(request, file),
            slot=request.POST.get("slot", ""),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Done: the resident is told."))
    return _back(file)


@login_required
@require_POST
def assign(request, public_id: str):
    file = _staff_file(request, public_id)
    wanted = request.POST.get("assignee", "")
    to = None
    if wanted == "me":
        to = request.user
    elif wanted:
        to = next((u for u in queries.colleagues(file) if str(u.pk) == wanted), None)
        if to is None:
            messages.error(request, _("Choose a colleague who handles this procedure."))
            return _back(file)
    try:
        handling.assign(actor=request.user, file=file, to=to)
    except DomainError as error:
        messages.error(request, error.message)
    return _back(file)


@login_required
@require_POST
def comment(request, public_id: str):
    file = _staff_file(request, public_id)
    try:
        handling.comment(actor=request.user, file=file, text=request.POST.get("text", ""))
    except DomainError as error:
        messages.error(request, error.message)
    return _back(file)


@login_required
@require_POST
def staff_message(request, public_id: str):
    file = _staff_file(request, public_id)
    try:
        handling.send_message(
            actor=request.user,
            file=file,
            text=request.POST.get("text", ""),
            attachments=attachments.posted_attachments(request, file),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your message is sent."))
    return _back(file)


@login_required
@require_GET
def receipt(request, public_id: str):
    file = _staff_file(request, public_id)
    if file.state == State.DRAFT:
        raise Http404
    response = HttpResponse(pdf.receipt(file), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="recepisse-{file.public_id}.pdf"'
    return response


def _counter_allowed(user: User) -> list:
    if not (user.is_authenticated and has_capability(user, Capability.ASSIST_AT_COUNTER)):
        raise PermissionDenied
    return queries.handled_types(user)


@login_required
@require_http_methods(["GET", "POST"])
def counter_page(request):
    """Find the resident (an audited search), then start a procedure for them."""
    kinds = _counter_allowed(request.user)
    results, error = None, ""
    words = request.POST.get("q", "") if request.method == "POST" else ""
    if request.method == "POST" and request.POST.get("step") == "search":
        try:
            results = [
                p
                for p in search_residents(
                    actor=request.user, query=words, reason=AccessReason.COUNTER
                )
                if p.role == Person.Role.ADULT
            ]
        except DomainError as refused:
            error = refused.message
    elif request.method == "POST":
        applicant = Person.objects.filter(public_id=request.POST.get("person", "")).first()
        if applicant is None:
            raise Http404
        try:
            file = counter.start_at_counter(
                actor=request.user,
                applicant=applicant,
                type_key=request.POST.get("type", ""),
                consent_given_by=request.POST.get("consent_given_by", ""),
                purpose=request.POST.get("purpose", ""),
            )
        except DomainError as refused:
            messages.error(request, refused.message)
        else:
            first = file.type.steps[0].key
            return redirect("procedures:step", public_id=file.public_id, step_key=first)
    return render(
        request,
        "procedures/counter.html",
        {"kinds": kinds, "results": results, "error": error, "words": words},
    )
