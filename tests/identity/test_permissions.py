"""Least privilege per staff role, decided in one place (identity.permissions)."""

import pytest

from identity.models import StaffRole
from identity.permissions import (
    Capability,
    can_act_for,
    can_manage_household,
    capabilities,
    has_capability,
)
from tests.factories import FacilityFactory, PersonFactory, ResidentFactory, staff_user

pytestmark = pytest.mark.django_db

Role = StaffRole.Role

# The matrix the town signs off on: which role may do what.
EXPECTED = {
    Role.POOL_AGENT: {Capability.SCAN_CARDS, Capability.VIEW_ATTENDANCE},
    Role.LIBRARIAN: {Capability.SCAN_CARDS, Capability.VIEW_ATTENDANCE},
    Role.CANTEEN_AGENT: {Capability.SCAN_CARDS, Capability.VIEW_ATTENDANCE},
    Role.SCHOOL_HEAD: {Capability.READ_SCHOOL_LIST},
    Role.CLERK: {
        Capability.SEARCH_RESIDENTS,
        Capability.VIEW_RESIDENT_FILE,
        Capability.EDIT_RESIDENT_FILE,
        Capability.VIEW_RESIDENT_DOCUMENTS,
        Capability.SCAN_CARDS,
        Capability.HANDLE_APPOINTMENTS,
        Capability.HANDLE_PROCEDURES,
        Capability.ASSIST_AT_COUNTER,
    },
    Role.FINANCE_OFFICER: {Capability.VIEW_PAYMENTS, Capability.REFUND_PAYMENTS},
    Role.ADMIN: {
        Capability.MANAGE_STAFF,
        Capability.MANAGE_TERRITORY,
        Capability.VIEW_AUDIT_TRAIL,
        Capability.FOLLOW_NOTIFICATIONS,
    },
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_has_exactly_its_capabilities(role):
    user = staff_user(role)
    assert capabilities(user) == EXPECTED[role]


@pytest.mark.parametrize(
    "role",
    [
        Role.POOL_AGENT,
        Role.LIBRARIAN,
        Role.CANTEEN_AGENT,
        Role.SCHOOL_HEAD,
        Role.FINANCE_OFFICER,
        Role.ADMIN,
    ],
)
def test_only_clerks_see_residents_documents_and_files(role):
    user = staff_user(role)
    assert not has_capability(user, Capability.VIEW_RESIDENT_DOCUMENTS)
    assert not has_capability(user, Capability.VIEW_RESIDENT_FILE)


def test_a_pool_agent_scans_at_their_pool_only():
    cahors, pradines = FacilityFactory(), FacilityFactory()
    agent = staff_user(Role.POOL_AGENT, facility=cahors)
    assert has_capability(agent, Capability.SCAN_CARDS, facility=cahors)
    assert not has_capability(agent, Capability.SCAN_CARDS, facility=pradines)


def test_a_revoked_role_grants_nothing():
    agent = staff_user(Role.CLERK)
    StaffRole.objects.filter(user=agent).update(revoked_at="2026-01-01T00:00Z")
    agent = type(agent).objects.get(pk=agent.pk)  # drop the per-request cache
    assert capabilities(agent) == set()


def test_residents_manage_their_own_household_only():
    camille, stranger = ResidentFactory(), ResidentFactory()
    assert can_manage_household(camille.user, camille.household)
    assert not can_manage_household(stranger.user, camille.household)


def test_guardians_act_for_their_children_and_nobody_else_does():
    parent, stranger = ResidentFactory(), ResidentFactory()
    child = PersonFactory(household=parent.household, role="child", birth_date="2018-01-01")
    child.guardians.create(guardian=parent)
    assert can_act_for(parent.user, child)
    assert can_act_for(parent.user, parent)
    assert not can_act_for(stranger.user, child)
    assert not can_act_for(stranger.user, parent)
