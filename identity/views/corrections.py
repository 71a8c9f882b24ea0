"""A clerk corrects an open resident file: identity, an address period, a family quotient,
legal guardians, reduced-rate statuses. Each page is one form: the clerk's reason in, one
action out, the refusal next to its field, back to the file once done."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import queries
from ..actions import corrections
from ..actions import reduced_rates as reduced_rate_actions
from ..errors import DomainError, Forbidden
from ..forms import (
    AddressCorrectionForm,
    CorrectionForm,
    EndReducedRateForm,
    GuardianForm,
    IdentityCorrectionForm,
    QuotientCorrectionForm,
    ReducedRateForm,
    show_domain_error,
)
from ..models import (
    FamilyQuotient,
    Guardianship,
    Household,
    HouseholdAddress,
    Person,
    ReducedRateStatus,
)
from ..permissions import Capability
from .decorators import capability_required
from .staff import file_is_open


def _open_household(request, public_id: str) -> Household:
    household = queries.household_of_public_id(public_id)
    if household is None:
        raise Http404
    return household


def _correction_page(
    request,
    household: Household,
    *,
    form,
    perform: Callable[[dict], object],
    title: str,
    subject: str,
    success: str,
):
    """The shape every correction shares: the file must be open (with a reason, audited),
    then form → action → message and back to the file, or the refusal next to its field."""
    if not file_is_open(request, household):
        messages.info(request, _("Open the file first: say why you open it."))
        return redirect("identity:staff_file", household.public_id)
    if request.method == "POST" and form.is_valid():
        try:
            perform(form.cleaned_data)
        except Forbidden as error:
            raise PermissionDenied from error
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, success)
            return redirect("identity:staff_file", household.public_id)
    return render(
        request,
        "identity/staff_correction.html",
        {
            "form": form,
            "title": title,
            "subject": subject,
            "household_label": str(household),
            "public_id": household.public_id,
        },
        status=400 if form.errors else 200,
    )


def _member(household: Household, person_id: str) -> Person:
    return get_object_or_404(Person, household=household, public_id=person_id)


@capability_required(Capability.EDIT_RESIDENT_FILE)
@require_http_methods(["GET", "POST"])
def correct_identity(request, public_id: str, person_id: str):
    household = _open_household(request, public_id)
    person = _member(household, person_id)
    initial = {f: getattr(person, f) for f in ("first_name", "last_name", "birth_date")}
    form = IdentityCorrectionForm(request.POST or None, initial=initial)
    return _correction_page(
        request,
        household,
        form=form,
        perform=lambda data: corrections.correct_identity(
            actor=request.user, person=person, **data
        ),
        title=_("Correct the identity"),
        subject=person.full_name,
        success=_("The identity is corrected; the resident sees the correction and its reason."),
    )


@capability_required(Capability.EDIT_RESIDENT_FILE)
@require_http_methods(["GET", "POST"])
def correct_address(request, public_id: str, pk: int):
    household = _open_household(request, public_id)
    address = get_object_or_404(HouseholdAddress, household=household, pk=pk)
    fields = ("line1", "line2", "postcode", "commune", "valid_from", "valid_until")
    form = AddressCorrectionForm(
        request.POST or None, initial={f: getattr(address, f) for f in fields}
    )

    def perform(data):
        corrections.correct_address_period(
            actor=request.user,
            address=address,
            lines=form.address(),
            valid_from=data["valid_from"],
            valid_until=data["valid_until"],
            reason=data["reason"],
        )

    return _correction_page(
        request,
        household,
        form=form,
        perform=perform,
        title=_("Correct an address period"),
        subject=f"{address.line1}, {address.postcode} {address.commune.name}",
        success=_("The address history is corrected."),
    )


@capability_required(Capability.EDIT_RESIDENT_FILE)
@require_http_methods(["GET", "POST"])
def correct_quotient(request, public_id: str, pk: int):
    household = _open_household(request, public_id)
    quotient = get_object_or_404(FamilyQuotient, household=household, pk=pk)
    fields = ("amount", "valid_from", "valid_until")
    form = QuotientCorrectionForm(
        request.POST or None, initial={f: getattr(quotient, f) for f in fields}
    )
    return _correction_page(
        request,
        household,
        form=form,
        perform=lambda data: corrections.correct_family_quotient(
            actor=request.user, quotient=quotient, **data
        ),
        title=_("Correct a family quotient declaration"),
        subject=_("%(amount)s € declared for %(start)s – %(end)s")
        % {
            "amount": quotient.amount,
            "start": quotient.valid_from.strftime("%d/%m/%Y"),
            "end": quotient.valid_until.strftime("%d/%m/%Y"),
        },
        success=_("The correction is recorded; the corrected declaration stays in the history."),
    )


@capability_required(Capability.EDIT_RESIDENT_FILE)
@require_http_methods(["GET", "POST"])
def add_guardian(request, public_id: str, person_id: str):
    household = _open_household(request, public_id)
    child = _member(household, person_id)
    adults = household.members.filter(role=Person.Role.ADULT)
    form = GuardianForm(request.POST or None, adults=adults)
    return _correction_page(
        request,
        household,
        form=form,
        perform=lambda data: corrections.add_guardian(actor=request.user, child=child, **data),
        title=_("Add a legal guardian"),
        subject=child.full_name,
        success=_("The legal guardian is added."),
    )


@capability_required(Capability.EDIT_RESIDENT_FILE)
@require_http_methods(["GET", "POST"])
def end_guardianship(request, public_id: str, pk: int):
    household = _open_household(request, public_id)
    link = get_object_or_404(
        Guardianship.objects.active().select_related("guardian", "child"),
        child__household=household,
        pk=pk,
    )
    form = CorrectionForm(request.POST or None)
    return _correction_page(
        request,
        household,
        form=form,
        perform=lambda data: corrections.end_guardianship(
            actor=request.user, guardianship=link, **data
        ),
        title=_("End a legal guardianship"),
        subject=_("%(guardian)s, legal guardian of %(child)s")
        % {"guardian": link.guardian.full_name, "child": link.child.full_name},
        success=_("The legal guardianship is ended; it stays in the history."),
    )


@capability_required(Capability.EDIT_RESIDENT_FILE)
@require_http_methods(["GET", "POST"])
def record_reduced_rate(request, public_id: str, person_id: str):
    household = _open_household(request, public_id)
    person = _member(household, person_id)
    form = ReducedRateForm(request.POST or None)
    return _correction_page(
        request,
        household,
        form=form,
        perform=lambda data: reduced_rate_actions.record_reduced_rate_status(
            actor=request.user, person=person, **data
        ),
        title=_("Record a reduced rate"),
        subject=person.full_name,
        success=_("The reduced rate is recorded."),
    )


@capability_required(Capability.EDIT_RESIDENT_FILE)
@require_http_methods(["GET", "POST"])
def end_reduced_rate(request, public_id: str, pk: int):
    household = _open_household(request, public_id)
    status = get_object_or_404(
        ReducedRateStatus.objects.select_related("person"),
        person__household=household,
        ended_on__isnull=True,
        pk=pk,
    )
    form = EndReducedRateForm(request.POST or None)
    return _correction_page(
        request,
        household,
        form=form,
        perform=lambda data: reduced_rate_actions.end_reduced_rate_status(
            actor=request.user, status=status, **data
        ),
        title=_("End a reduced rate"),
        subject=_("%(category)s — %(name)s, until %(end)s")
        % {
            "category": status.get_category_display(),
            "name": status.person.full_name,
            "end": status.valid_until.strftime("%d/%m/%Y"),
        },
        success=_("The reduced rate is ended; it stays in the history."),
    )
