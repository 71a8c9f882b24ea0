"""Every staff read or change of a resident's data is audited (who, when, what, why), and the
resident sees it in "who looked at my file"."""

from datetime import date

import pytest
from django.utils import translation

from identity import queries, vocabulary
from identity.actions.audit import record_audit_entry
from identity.actions.household import AddressInput, change_address, declare_family_quotient
from identity.actions.staff import open_resident_file, search_residents
from identity.errors import DomainError, Forbidden
from identity.models import AuditEntry, StaffRole
from tests.factories import CommuneFactory, ResidentFactory, staff_user

pytestmark = pytest.mark.django_db


def test_a_clerk_opening_a_file_is_recorded_with_the_reason():
    resident = ResidentFactory()
    clerk = staff_user(StaffRole.Role.CLERK)
    opened = open_resident_file(
        actor=clerk,
        household=resident.household,
        reason="phone",
        channel=AuditEntry.Channel.PHONE,
    )
    assert opened.overview.members == [resident]
    entry = AuditEntry.objects.get(action="staff.file_viewed")
    assert entry.actor == clerk
    assert entry.actor_role == StaffRole.Role.CLERK
    assert entry.household == resident.household
    assert entry.reason == "phone"
    with translation.override("en"):
        assert entry.reason_label == "Request by phone"
    assert entry.channel == AuditEntry.Channel.PHONE
    assert list(queries.staff_accesses_to_household(resident.household)) == [entry]


def test_no_reason_no_file():
    resident = ResidentFactory()
    clerk = staff_user(StaffRole.Role.CLERK)
    with pytest.raises(DomainError) as refused:
        open_resident_file(actor=clerk, household=resident.household, reason="curious")
    assert refused.value.field == "reason"
    assert not AuditEntry.objects.filter(action="staff.file_viewed").exists()


def test_a_pool_agent_cannot_open_a_file_or_search():
    resident = ResidentFactory()
    agent = staff_user(StaffRole.Role.POOL_AGENT)
    with pytest.raises(Forbidden):
        open_resident_file(actor=agent, household=resident.household, reason="counter")
    with pytest.raises(Forbidden):
        search_residents(actor=agent, query=resident.last_name, reason="counter")


def test_searches_are_audited_too():
    resident = ResidentFactory(last_name="Delmas")
    clerk = staff_user(StaffRole.Role.CLERK)
    found = search_residents(actor=clerk, query="delm", reason="counter")
    assert found == [resident]
    assert AuditEntry.objects.filter(action="staff.residents_searched", actor=clerk).exists()


def test_a_clerk_changing_an_address_appears_in_the_residents_access_log():
    resident = ResidentFactory(address__valid_from=date(2020, 1, 1))
    clerk = staff_user(StaffRole.Role.CLERK)
    change_address(
        actor=clerk,
        household=resident.household,
        address=AddressInput(
            line1="8 quai Cavaignac", line2="", postcode="46000", commune=CommuneFactory()
        ),
        moved_in=date(2025, 5, 1),
        channel=AuditEntry.Channel.COUNTER,
    )
    entry = queries.staff_accesses_to_household(resident.household).get()
    assert entry.action == "household.address_changed"
    assert entry.channel == AuditEntry.Channel.COUNTER
    with translation.override("en"):
        assert vocabulary.staff_label(entry) == f"Town-hall clerk — {clerk.first_name}"


def test_the_residents_own_changes_are_not_staff_accesses():
    resident = ResidentFactory()
    declare_family_quotient(
        actor=resident.user,
        household=resident.household,
        amount=500,
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 12, 31),
    )
    assert AuditEntry.objects.filter(household=resident.household).exists()
    assert not queries.staff_accesses_to_household(resident.household).exists()


def test_audit_entries_cannot_be_rewritten_or_deleted():
    resident = ResidentFactory()
    entry = record_audit_entry(actor=resident.user, action="test", household=resident.household)
    entry.reason = "changed"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()
