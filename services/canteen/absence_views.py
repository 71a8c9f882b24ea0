"""Pages of justified absences: a guardian reports a booked day after its deadline with a
medical certificate (Mon espace); a town-hall clerk accepts or refuses it (the queue). Thin:
forms in, `absences` actions and `absence_queries` out."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from documents_vault.forms import PickOrUploadForm
from documents_vault.queries import documents_for_picker
from identity.errors import DomainError
from identity.forms import show_domain_error
from identity.permissions import Capability, can_act_for
from identity.views.decorators import capability_required, resident_required

from . import absence_queries, absences
from .models import AbsenceReport, Booking


@resident_required
def my_absences(request):
    """The days a guardian may still justify, and the absences already reported."""
    return render(
        request,
        "canteen/my_absences.html",
        {
            "days": absence_queries.justifiable_days(request.user),
            "reports": absence_queries.reports_of(request.user),
        },
    )


@resident_required
@require_http_methods(["GET", "POST"])
def report_absence(request, public_id):
    booking = get_object_or_404(
        Booking.objects.select_related("child", "service__site"), public_id=public_id
    )
    if not can_act_for(request.user, booking.child):
        raise Http404
    documents = documents_for_picker(request.user, booking.child, absences.CERTIFICATE_KINDS)
    form = PickOrUploadForm(request.POST or None, request.FILES or None, documents=documents)
    if request.method == "POST" and form.is_valid():
        try:
            absences.report_absence(actor=request.user, booking=booking, **form.pick())
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(
                request, _("The absence is reported: a clerk will examine the certificate.")
            )
            return redirect("canteen:absences")
    return render(request, "canteen/report_absence.html", {"booking": booking, "form": form})


@capability_required(Capability.HANDLE_PROCEDURES)
def absence_queue(request):
    """The clerks' queue of reported absences awaiting a decision, then those decided in the
    last 30 days (opening it is audited: it names children)."""
    absences.audit_absence_queue(actor=request.user)
    reports = absence_queries.pending_reports()
    shares = absence_queries.open_shares(reports)
    return render(
        request,
        "canteen/absence_queue.html",
        {
            "rows": [(report, shares.get(report.public_id)) for report in reports],
            "decided": absence_queries.recent_decisions(),
        },
    )


@capability_required(Capability.HANDLE_PROCEDURES)
@require_POST
def decide_absence(request, public_id):
    report = get_object_or_404(AbsenceReport, public_id=public_id)
    accept = request.POST.get("decision") == "accept"
    try:
        report = absences.decide_absence(
            actor=request.user, report=report, accept=accept, reason=request.POST.get("reason", "")
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if report.state == AbsenceReport.State.ACCEPTED:
            messages.success(request, _("Absence accepted: the parent is told."))
        else:
            messages.success(request, _("Absence refused: the parent is told why."))
    return redirect("canteen:absence_queue")
