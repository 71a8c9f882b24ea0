"""Reduced-rate statuses (student, job seeker, disability): personal data a town-hall clerk
records after seeing the proof, audited on the person's household, read by the tariff engine
for the day of a sale."""

from datetime import date

import pytest

from identity import queries
from identity.actions.reduced_rates import end_reduced_rate_status, record_reduced_rate_status
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import AuditEntry, ReducedRateStatus, StaffRole
from tests.factories import PersonFactory, ResidentFactory, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("on_25_november_2026")]


def record(actor, person, category="student", valid_from=date(2026, 9, 1), **kwargs):
    return record_reduced_rate_status(
        actor=actor,
        person=person,
        category=category,
        valid_from=valid_from,
        valid_until=kwargs.pop("valid_until", date(2027, 8, 31)),
        **kwargs,
    )


def test_a_clerk_records_a_status_and_the_household_sees_it_in_its_access_log():
    clerk = staff_user(StaffRole.Role.CLERK)
    person = PersonFactory()
    status = record(clerk, person, category="job_seeker")
    assert (status.verified_by, status.category) == (clerk, "job_seeker")
    entry = AuditEntry.objects.get(action="person.reduced_rate_recorded")
    assert (entry.actor, entry.person, entry.household) == (clerk, person, person.household)
    assert (entry.actor_role, entry.target, entry.channel) == ("clerk", "job_seeker", "counter")
    assert entry in queries.staff_accesses_to_household(person.household)


@pytest.mark.parametrize(
    "who",
    ["resident", "pool_agent", "finance_officer", "admin"],
)
def test_only_a_clerk_records_a_status(who):
    person = ResidentFactory()
    actor = person.user if who == "resident" else staff_user(who)
    with pytest.raises(Forbidden):
        record(actor, person)
    assert not ReducedRateStatus.objects.exists()
    assert not AuditEntry.objects.filter(action="person.reduced_rate_recorded").exists()


@pytest.mark.parametrize(
    ("category", "valid_from", "valid_until", "field"),
    [
        ("pensioner", date(2026, 9, 1), date(2027, 8, 31), "category"),
        ("student", date(2026, 9, 1), date(2026, 8, 31), "valid_until"),
        ("disability", date(2026, 1, 1), date(2031, 6, 1), "valid_until"),
    ],
    ids=["unknown-category", "end-before-start", "longer-than-five-years"],
)
def test_a_status_that_makes_no_sense_is_refused(category, valid_from, valid_until, field):
    with pytest.raises(DomainError) as refused:
        record(
            staff_user(StaffRole.Role.CLERK),
            PersonFactory(),
            category=category,
            valid_from=valid_from,
            valid_until=valid_until,
        )
    assert refused.value.field == field
    assert not ReducedRateStatus.objects.exists()


def test_the_categories_held_on_a_day_are_those_of_the_statuses_covering_it():
    clerk = staff_user(StaffRole.Role.CLERK)
    person, someone_else = PersonFactory(), PersonFactory()
    record(clerk, person, "student", date(2025, 9, 1), valid_until=date(2026, 8, 31))
    record(clerk, person, "disability", date(2026, 1, 1), valid_until=date(2030, 12, 31))
    record(clerk, someone_else, "job_seeker", date(2026, 1, 1))
    assert queries.reduced_categories_on(person, date(2025, 12, 31)) == {"student"}
    assert queries.reduced_categories_on(person, date(2026, 8, 31)) == {"student", "disability"}
    assert queries.reduced_categories_on(person, date(2026, 9, 1)) == {"disability"}
    assert queries.reduced_categories_on(person, date(2025, 8, 31)) == set()


# --- Ending a status early: dated, never a delete --------------------------------------------


def test_a_clerk_ends_a_status_early_and_it_stops_counting_after_that_day():
    clerk = staff_user(StaffRole.Role.CLERK)
    person = PersonFactory()
    status = record(clerk, person, category="job_seeker", valid_from=date(2026, 1, 1))

    end_reduced_rate_status(
        actor=clerk, status=status, last_day=date(2026, 11, 20), reason="Reprise d'emploi"
    )

    status.refresh_from_db()
    assert (status.ended_on, status.ended_by) == (date(2026, 11, 20), clerk)
    assert status.valid_until == date(2027, 8, 31)  # the verified period stays as it was
    assert ReducedRateStatus.objects.count() == 1
    assert queries.reduced_categories_on(person, date(2026, 11, 20)) == {"job_seeker"}
    assert queries.reduced_categories_on(person, date(2026, 11, 21)) == set()
    entry = AuditEntry.objects.get(action="person.reduced_rate_ended")
    assert (entry.actor, entry.person, entry.target) == (clerk, person, "job_seeker")
    assert entry.reason == "Reprise d'emploi"
    assert entry.changes == {"valid_until": ["2027-08-31", "2026-11-20"]}
    assert entry in queries.staff_accesses_to_household(person.household)


@pytest.mark.parametrize(
    ("last_day", "reason", "field"),
    [
        (date(2026, 11, 20), "", "reason"),
        (date(2026, 8, 30), "Erreur", "last_day"),  # before it even started
        (date(2027, 8, 31), "Erreur", "last_day"),  # that is no earlier end
    ],
)
def test_an_end_that_makes_no_sense_is_refused(last_day, reason, field):
    clerk = staff_user(StaffRole.Role.CLERK)
    status = record(clerk, PersonFactory())
    with pytest.raises(DomainError) as refused:
        end_reduced_rate_status(actor=clerk, status=status, last_day=last_day, reason=reason)
    assert refused.value.field == field
    status.refresh_from_db()
    assert status.ended_on is None
    assert not AuditEntry.objects.filter(action="person.reduced_rate_ended").exists()


def test_a_status_ends_once_and_only_a_clerk_ends_it():
    clerk = staff_user(StaffRole.Role.CLERK)
    status = record(clerk, PersonFactory())
    with pytest.raises(Forbidden):
        end_reduced_rate_status(
            actor=staff_user("admin"), status=status, last_day=date(2026, 11, 25), reason="x"
        )
    end_reduced_rate_status(actor=clerk, status=status, last_day=date(2026, 11, 25), reason="x")
    with pytest.raises(Conflict):
        end_reduced_rate_status(actor=clerk, status=status, last_day=date(2026, 11, 24), reason="x")
    assert AuditEntry.objects.filter(action="person.reduced_rate_ended").count() == 1
