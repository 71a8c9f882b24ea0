"""A staff member who lost their phone or key has their second factor reset by an administrator
who manages where they work: audited with the reason, the owner told by email, never one's own,
and their next sign-in asks them to set up a new one."""

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail

from identity.actions.staff import reset_second_factor
from identity.errors import DomainError, Forbidden
from identity.models import AuditEntry, Facility, StaffRole
from identity.permissions import second_factor_missing
from identity.vocabulary import detail
from tests.factories import FacilityFactory, site_administrator, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

REASON = "Phone lost; identity checked in person at the town hall"


@pytest.fixture
def pool():
    return FacilityFactory(kind=Facility.Kind.POOL)


def test_an_administrator_resets_a_pool_agents_second_factor(
    pool, django_capture_on_commit_callbacks
):
    administrator = staff_user(StaffRole.Role.ADMIN)
    agent = staff_user(StaffRole.Role.POOL_AGENT, facility=pool)
    with django_capture_on_commit_callbacks(execute=True):
        removed = reset_second_factor(actor=administrator, user=agent, reason=REASON)
    assert removed >= 1
    assert not Authenticator.objects.filter(user=agent).exists()
    assert second_factor_missing(agent)  # the next sign-in sets up a new one
    entry = AuditEntry.objects.get(action="staff.second_factor_reset")
    assert entry.actor == administrator
    assert entry.reason == REASON
    assert detail(entry) == agent.display_name
    assert [message.to for message in mail.outbox] == [[agent.email]]


def test_nobody_resets_their_own_second_factor():
    administrator = staff_user(StaffRole.Role.ADMIN)
    with pytest.raises(Forbidden):
        reset_second_factor(actor=administrator, user=administrator, reason=REASON)
    assert Authenticator.objects.filter(user=administrator).exists()


def test_an_administrator_of_another_facility_cannot(pool):
    library = FacilityFactory(kind=Facility.Kind.LIBRARY)
    library_administrator = staff_user(StaffRole.Role.ADMIN, facility=library)
    agent = staff_user(StaffRole.Role.POOL_AGENT, facility=pool)
    with pytest.raises(Forbidden):
        reset_second_factor(actor=library_administrator, user=agent, reason=REASON)
    assert Authenticator.objects.filter(user=agent).exists()
    assert not AuditEntry.objects.filter(action="staff.second_factor_reset").exists()


def test_a_clerk_cannot(pool):
    clerk = staff_user(StaffRole.Role.CLERK)
    agent = staff_user(StaffRole.Role.POOL_AGENT, facility=pool)
    with pytest.raises(Forbidden):
        reset_second_factor(actor=clerk, user=agent, reason=REASON)
    assert Authenticator.objects.filter(user=agent).exists()


def test_a_reset_without_a_reason_removes_nothing(pool):
    administrator = staff_user(StaffRole.Role.ADMIN)
    agent = staff_user(StaffRole.Role.POOL_AGENT, facility=pool)
    with pytest.raises(DomainError) as refused:
        reset_second_factor(actor=administrator, user=agent, reason="  lost ")
    assert refused.value.field == "reason"
    assert Authenticator.objects.filter(user=agent).exists()


def test_the_admin_asks_for_the_reason_then_resets(client, pool):
    administrator = site_administrator()
    agent = staff_user(StaffRole.Role.POOL_AGENT, facility=pool)
    client.force_login(administrator)
    url = "/admin/mfa/authenticator/"
    selected = list(Authenticator.objects.filter(user=agent).values_list("pk", flat=True))
    asked = client.post(url, {"action": "reset_second_factor", "_selected_action": selected})
    assert asked.status_code == 200
    assert agent.display_name in asked.content.decode()
    assert Authenticator.objects.filter(user=agent).exists()  # nothing before the reason
    done = client.post(
        url,
        {
            "action": "reset_second_factor",
            "_selected_action": selected,
            "confirm": "1",
            "reason": REASON,
        },
        follow=True,
    )
    assert "Second factor reset for" in done.content.decode()
    assert not Authenticator.objects.filter(user=agent).exists()
    assert AuditEntry.objects.filter(action="staff.second_factor_reset", actor=administrator)
