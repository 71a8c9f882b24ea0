"""The staff resident file: search, open with a reason (audited)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from .. import queries
from ..actions import staff as staff_actions
from ..errors import DomainError, Forbidden
from ..forms import (
    ReasonForm,
    ResidentSearchForm,
    show_domain_error,
)
from ..models import AuditEntry
from ..permissions import Capability
from .decorators import capability_required


@capability_required(Capability.SEARCH_RESIDENTS)
@require_http_methods(["GET", "POST"])
def staff_resident_search(request):
    form = ResidentSearchForm(request.POST or None)
    results = None
    if request.method == "POST" and form.is_valid():
        try:
            results = staff_actions.search_residents(
                actor=request.user,
                query=form.cleaned_data["q"],
                reason=form.cleaned_data["reason"],
                channel=AuditEntry.Channel.COUNTER,
            )
        except DomainError as error:
            show_domain_error(form, error)
    return render(
        request,
        "identity/staff_search.html",
        {"form": form, "results": results, "reason_form": ReasonForm()},
    )


@capability_required(Capability.VIEW_RESIDENT_FILE)
@require_http_methods(["GET", "POST"])
def staff_resident_file(request, public_id: str):
    household = queries.household_of_public_id(public_id)
    if household is None:
        raise Http404
    form = ReasonForm(request.POST or None)
    overview = None
    if request.method == "POST" and form.is_valid():
        try:
            overview = staff_actions.open_resident_file(
                actor=request.user,
                household=household,
                reason=form.cleaned_data["reason"],
                channel=AuditEntry.Channel.COUNTER,
            )
        except Forbidden as error:
            raise PermissionDenied from error
        except DomainError as error:
            show_domain_error(form, error)
    return render(
        request,
        "identity/staff_file.html",
        {"form": form, "overview": overview, "public_id": public_id},
    )
