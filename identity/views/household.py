"""Resident pages (Mon espace > household, who looked at my file). Thin: forms in, actions
out, refusals shown next to the field."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import queries, vocabulary
from ..actions import household as household_actions
from ..actions import members as member_actions
from ..actions import quotient_fetch
from ..errors import DomainError
from ..forms import (
    AddressForm,
    MemberCorrectionForm,
    MemberForm,
    ProfileForm,
    QuotientFetchForm,
    QuotientForm,
    show_domain_error,
)
from ..models import Person
from ..permissions import can_manage_household, person_of
from ..quotient_api import quotient_provider
from .decorators import resident_required


@login_required
@require_http_methods(["GET", "POST"])
def onboarding(request):
    if person_of(request.user) is not None:
        return redirect("portal:home")
    form = ProfileForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            household_actions.register_resident(
                user=request.user,
                first_name=data["first_name"],
                last_name=data["last_name"],
                birth_date=data["birth_date"],
                address=form.address(),
                moved_in=data["moved_in"],
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, _("Welcome! Your household is ready."))
            return redirect("portal:home")
    return render(request, "identity/onboarding.html", {"form": form})


def _members_context(request, *, member_form=None) -> dict:
    """What the members' panel shows: the members, which of them this resident may correct or
    remove, and the form to add one."""
    overview = queries.household_overview(request.person.household)
    return {
        "overview": overview,
        "can_manage": can_manage_household(request.user, request.person.household),
        "changeable": {
            member.pk
            for member in overview.members
            if member_actions.can_change_member(request.user, member)
        },
        "member_form": member_form or MemberForm(),
    }


@resident_required
def household(request):
    return render(request, "identity/household.html", _members_context(request))


def _household_form_view(request, *, form_class, template: str, perform, success: str):
    """The shared shape of the household forms: manager only, form → action → message."""
    if not can_manage_household(request.user, request.person.household):
        raise PermissionDenied
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            perform(form)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, success)
            if request.headers.get("HX-Request"):
                return render(request, "identity/_members.html", _members_context(request))
            return redirect("identity:household")
    if request.headers.get("HX-Request"):
        return render(
            request, "identity/_members.html", _members_context(request, member_form=form)
        )
    return render(request, template, {"form": form})


@resident_required
@require_http_methods(["GET", "POST"])
def add_member(request):
    def perform(form):
        data = form.cleaned_data
        household_actions.add_household_member(
            actor=request.user,
            household=request.person.household,
            role=data["role"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            birth_date=data["birth_date"],
        )

    return _household_form_view(
        request,
        form_class=MemberForm,
        template="identity/member_form.html",
        perform=perform,
        success=_("The member was added to your household."),
    )


@resident_required
@require_http_methods(["GET", "POST"])
def change_address(request):
    def perform(form):
        household_actions.change_address(
            actor=request.user,
            household=request.person.household,
            address=form.address(),
            moved_in=form.cleaned_data["moved_in"],
        )

    return _household_form_view(
        request,
        form_class=AddressForm,
        template="identity/address_form.html",
        perform=perform,
        success=_("Your new address is recorded; the previous one stays in your history."),
    )


@resident_required
@require_http_methods(["GET", "POST"])
def declare_quotient(request):
    def perform(form):
        data = form.cleaned_data
        household_actions.declare_family_quotient(
            actor=request.user,
            household=request.person.household,
            amount=data["amount"],
            valid_from=data["valid_from"],
            valid_until=data["valid_until"],
        )

    return _household_form_view(
        request,
        form_class=QuotientForm,
        template="identity/quotient_form.html",
        perform=perform,
        success=_("Your family quotient is recorded."),
    )


@resident_required
@require_http_methods(["GET", "POST"])
def fetch_quotient(request):
    """The family quotient fetched from the CAF or the MSA (API Particulier), with consent; a
    failure of the API is said on the page and the quotient on record stays."""
    if not can_manage_household(request.user, request.person.household):
        raise PermissionDenied
    form = QuotientFetchForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            quotient_fetch.fetch_family_quotient(
                actor=request.user,
                household=request.person.household,
                person=request.person,
                consent=data["consent"],
                sex=data["sex"],
                birth_country=data["birth_country"].strip(),
                birth_commune=data["birth_commune"].strip().upper(),
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, _("Your family quotient was fetched from the CAF or MSA."))
            return redirect("identity:household")
    return render(
        request,
        "identity/quotient_fetch.html",
        {"form": form, "configured": quotient_provider() is not None},
    )


def _changeable_member(request, person_id: str) -> Person:
    """A member of the resident's household they may correct or remove (else 404)."""
    member = request.person.household.members.filter(public_id=person_id).first()
    if member is None or not member_actions.can_change_member(request.user, member):
        raise Http404
    return member


@resident_required
@require_http_methods(["GET", "POST"])
def correct_member(request, person_id: str):
    member = _changeable_member(request, person_id)
    initial = {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "birth_date": member.birth_date,
    }
    form = MemberCorrectionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            member_actions.correct_member(
                actor=request.user,
                person=member,
                first_name=data["first_name"],
                last_name=data["last_name"],
                birth_date=data["birth_date"],
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, _("The correction is recorded."))
            return redirect("identity:household")
    return render(request, "identity/member_correction.html", {"form": form, "member": member})


@resident_required
@require_http_methods(["GET", "POST"])
def remove_member(request, person_id: str):
    """GET says what leaving the household means for this member (or why it cannot happen
    yet); POST does it."""
    member = _changeable_member(request, person_id)
    error = ""
    if request.method == "POST":
        leaving_self = member.pk == request.person.pk
        try:
            member_actions.remove_member(actor=request.user, person=member)
        except DomainError as refusal:
            error = refusal.message
        else:
            if leaving_self:
                messages.success(
                    request,
                    _("You left the household. Declare your new address in My household."),
                )
            else:
                messages.success(
                    request,
                    _("%(name)s left the household.") % {"name": member.full_name},
                )
            return redirect("identity:household")
    return render(
        request,
        "identity/member_removal.html",
        {
            "member": member,
            "is_self": member.pk == request.person.pk,
            "refusal": member_actions.removal_refusal(member),
            "error": error,
        },
    )


@resident_required
def file_accesses(request):
    entries = queries.staff_accesses_to_household(request.person.household)[:200]
    rows = [vocabulary.access_row(entry) for entry in entries]
    return render(request, "identity/file_accesses.html", {"rows": rows})
