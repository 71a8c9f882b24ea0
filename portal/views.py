from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from card import queries as card_queries
from identity import queries, vocabulary
from identity.permissions import (
    Capability,
    active_roles,
    capabilities,
    is_staff_member,
    person_of,
)
from services.catalog import registry

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
            "granted": sorted(str(vocabulary.CAPABILITY_LABELS[c]) for c in granted),
        },
    )
