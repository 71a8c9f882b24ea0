"""The staff resident file: search, open with a reason (audited)."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from .. import queries
from ..actions import staff as staff_actions
from ..errors import DomainError, Forbidden
from ..forms import (
    ReasonForm,
    ResidentSearchForm,
    show_domain_error,
)
from ..models import AuditEntry, Household
from ..permissions import Capability, has_capability
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
    resident_file = None
    if request.method == "POST" and form.is_valid():
        try:
            resident_file = staff_actions.open_resident_file(
                actor=request.user,
                household=household,
                reason=form.cleaned_data["reason"],
                channel=AuditEntry.Channel.COUNTER,
            )
        except Forbidden as error:
            raise PermissionDenied from error
        except DomainError as error:
            show_domain_error(form, error)
        else:
            remember_opened(request, household)
    elif request.method == "GET" and file_is_open(request, household):
        # Opened with a reason moments ago (that opening is in the trail): back from a correction.
        resident_file = queries.resident_file(household)
    return render(
        request,
        "identity/staff_file.html",
        {
            "form": form,
            "file": resident_file,
            "public_id": public_id,
            "household_label": str(household),
            "can_correct": has_capability(request.user, Capability.EDIT_RESIDENT_FILE),
        },
    )


# A file opened with a reason stays open this long in the clerk's session, for the corrections
# that follow; after that, a new reason (and a new entry of the trail) is needed.
OPENED_FILES = "sesame_opened_files"
FILE_STAYS_OPEN = timedelta(minutes=30)


def remember_opened(request, household: Household) -> None:
    now = timezone.now().timestamp()
    opened = {
        key: at
        for key, at in request.session.get(OPENED_FILES, {}).items()
        if now - at < FILE_STAYS_OPEN.total_seconds()
    }
    opened[household.public_id] = now
    request.session[OPENED_FILES] = opened


def file_is_open(request, household: Household) -> bool:
    at = request.session.get(OPENED_FILES, {}).get(household.public_id)
    return at is not None and timezone.now().timestamp() - at < FILE_STAYS_OPEN.total_seconds()
