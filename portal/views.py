from allauth.account.forms import ChangePasswordForm
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from card import queries as card_queries
from identity import queries, trust, vocabulary
from identity.models import Facility, StaffRole, Territory
from identity.notifications import queries as notification_queries
from identity.permissions import (
    Capability,
    active_roles,
    capabilities,
    is_staff_member,
    person_of,
)
from services.catalog import registry

from .models import LegalPage
from .panels import PANELS


def landing(request):
    if request.user.is_authenticated:
        return redirect("portal:home")
    return render(request, "portal/landing.html")


@login_required
def home(request):
    """Mon espace: the resident's household and the panels of every service."""
    person = person_of(request.user)
    if person is None:
        if is_staff_member(request.user):
            return redirect("portal:staff_home")
        return redirect("identity:onboarding")
    overview = queries.household_overview(person.household)
    # The services' own panels (services.catalog.registry) fill the section of their key, or
    # get one of their own.
    registered = registry.render_panels(request, person)
    known = {panel.key for panel in PANELS}
    panels = [
        {
            "key": panel.key,
            "title": panel.title,
            "empty_text": panel.empty_text,
            "services": [r for r in registered if r["key"] == panel.key],
        }
        for panel in PANELS
    ] + [{**r, "empty_text": "", "services": [r]} for r in registered if r["key"] not in known]
    return render(
        request,
        "portal/home.html",
        {
            "person": person,
            "overview": overview,
            "pricing": trust.pricing_facts_on(person.household, timezone.localdate()),
            "panels": panels,
            "panel_cards": card_queries.live_cards_for(person),
        },
    )


@login_required
def staff_home(request):
    """The back-office shell: what this staff member's roles let them do."""
    if not is_staff_member(request.user):
        raise PermissionDenied
    granted = capabilities(request.user)
    return render(
        request,
        "portal/staff_home.html",
        {
            "roles": active_roles(request.user),
            "can_search": Capability.SEARCH_RESIDENTS in granted,
            "can_scan": Capability.SCAN_CARDS in granted,
            "can_manage_cards": Capability.EDIT_RESIDENT_FILE in granted,
            "can_follow_attendance": Capability.VIEW_ATTENDANCE in granted,
            "can_see_kitchen_lists": any(
                role.role == StaffRole.Role.CANTEEN_AGENT for role in active_roles(request.user)
            ),
            "granted": sorted(str(vocabulary.CAPABILITY_LABELS[c]) for c in granted),
        },
    )


@login_required
def account(request):
    """Mon compte: the login's email addresses, its password and its second factor, on one
    page; each form posts to allauth's own view (next brings the person back here)."""
    user = request.user
    authenticators = {a.type: a for a in Authenticator.objects.filter(user=user)}
    recovery = authenticators.get(Authenticator.Type.RECOVERY_CODES)
    return render(
        request,
        "portal/account.html",
        {
            "person": person_of(user),
            "emails": EmailAddress.objects.filter(user=user).order_by("-primary", "email"),
            "password_form": ChangePasswordForm(user=user) if user.has_usable_password() else None,
            "totp": authenticators.get(Authenticator.Type.TOTP),
            "passkeys": Authenticator.objects.filter(
                user=user, type=Authenticator.Type.WEBAUTHN
            ).count(),
            "recovery_codes_left": len(recovery.wrap().get_unused_codes()) if recovery else 0,
            "is_staff_member": is_staff_member(user),
            "sms_consent": notification_queries.sms_consent_of(user),
            "next": reverse("portal:account"),
        },
    )


def legal_page(request, kind: str):
    """A page of the footer: what the administrators wrote, else the default text built from
    what Sésame holds today."""
    return render(
        request,
        "portal/legal_page.html",
        {
            "kind": kind,
            "title": LegalPage.Kind(kind).label,
            "page": LegalPage.objects.filter(kind=kind).exclude(body="").first(),
            "territory": Territory.objects.order_by("pk").first(),
            "town_halls": Facility.objects.filter(kind=Facility.Kind.TOWN_HALL).select_related(
                "commune"
            ),
        },
    )
