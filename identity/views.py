"""Resident pages (Mon espace > household) and the staff resident file. Thin: forms in,
actions out, refusals shown next to the field."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import actions, queries
from .errors import DomainError, Forbidden
from .forms import (
    AddressForm,
    MemberForm,
    ProfileForm,
    QuotientForm,
    ReasonForm,
    ResidentSearchForm,
    show_domain_error,
)
from .models import AuditEntry
from .permissions import Capability, can_manage_household, has_capability, person_of


def resident_required(view):
    """Pages of Mon espace: a login with a completed profile."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        person = person_of(request.user)
        if person is None:
            return redirect("identity:onboarding")
        request.person = person
        return view(request, *args, **kwargs)

    return wrapper


def capability_required(capability: Capability):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if not has_capability(request.user, capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


@login_required
@require_http_methods(["GET", "POST"])
def onboarding(request):
    if person_of(request.user) is not None:
        return redirect("portal:home")
    form = ProfileForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.register_resident(
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


@resident_required
def household(request):
    overview = queries.household_overview(request.person.household)
    return render(
        request,
        "identity/household.html",
        {
            "overview": overview,
            "can_manage": can_manage_household(request.user, request.person.household),
            "member_form": MemberForm(),
        },
    )


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
                overview = queries.household_overview(request.person.household)
                return render(
                    request,
                    "identity/_members.html",
                    {"overview": overview, "member_form": MemberForm(), "can_manage": True},
                )
            return redirect("identity:household")
    if request.headers.get("HX-Request"):
        overview = queries.household_overview(request.person.household)
        return render(
            request,
            "identity/_members.html",
            {"overview": overview, "member_form": form, "can_manage": True},
        )
    return render(request, template, {"form": form})


@resident_required
@require_http_methods(["GET", "POST"])
def add_member(request):
    def perform(form):
        data = form.cleaned_data
        actions.add_household_member(
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
        actions.change_address(
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
        actions.declare_family_quotient(
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
def file_accesses(request):
    entries = queries.staff_accesses_to_household(request.person.household)[:200]
    rows = [(entry, queries.staff_label(entry)) for entry in entries]
    return render(request, "identity/file_accesses.html", {"rows": rows})


# --- Staff ---------------------------------------------------------------------------------


@capability_required(Capability.SEARCH_RESIDENTS)
@require_http_methods(["GET", "POST"])
def staff_resident_search(request):
    form = ResidentSearchForm(request.POST or None)
    results = None
    if request.method == "POST" and form.is_valid():
        try:
            results = actions.search_residents(
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
            overview = actions.open_resident_file(
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
