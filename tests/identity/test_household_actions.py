"""A resident manages their household: members, moves, family quotient. Never overwritten,
never half-written, always audited."""

from datetime import date

import pytest
import time_machine

from identity import queries
from identity.actions.household import (
    AddressInput,
    add_household_member,
    change_address,
    declare_family_quotient,
    register_resident,
)
from identity.errors import DomainError, Forbidden
from identity.models import AuditEntry, FamilyQuotient, Guardianship, HouseholdAddress, Person
from tests.factories import CommuneFactory, ResidentFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(date(2026, 11, 25), tick=False):
        yield


def address(commune, line1="3 boulevard Gambetta"):
    return AddressInput(line1=line1, line2="", postcode="46000", commune=commune)


class TestRegisterResident:
    def test_a_new_account_becomes_the_first_adult_of_a_new_household(self):
        user = UserFactory()
        commune = CommuneFactory()
        person = register_resident(
            user=user,
            first_name="Camille",
            last_name="Martin",
            birth_date=date(1990, 1, 2),
            address=address(commune),
            moved_in=date(2024, 3, 1),
        )
        assert person.role == Person.Role.ADULT
        assert person.user == user
        current = queries.current_address(person.household)
        assert current.commune == commune
        assert current.valid_from == date(2024, 3, 1)
        assert AuditEntry.objects.filter(action="household.created", household=person.household)

    def test_a_minor_cannot_hold_an_account_and_nothing_is_written(self):
        user = UserFactory()
        with pytest.raises(DomainError) as refused:
            register_resident(
                user=user,
                first_name="Léa",
                last_name="Martin",
                birth_date=date(2012, 1, 1),
                address=address(CommuneFactory()),
                moved_in=date(2024, 3, 1),
            )
        assert refused.value.field == "birth_date"
        assert not Person.objects.exists()
        assert not HouseholdAddress.objects.exists()

    def test_a_profile_is_completed_once(self):
        resident = ResidentFactory()
        with pytest.raises(DomainError):
            register_resident(
                user=resident.user,
                first_name="A",
                last_name="B",
                birth_date=date(1990, 1, 1),
                address=address(CommuneFactory()),
                moved_in=date(2024, 1, 1),
            )
        assert Person.objects.count() == 1


class TestMembers:
    def test_a_parent_adds_a_child_and_becomes_their_guardian(self):
        parent = ResidentFactory()
        child = add_household_member(
            actor=parent.user,
            household=parent.household,
            role=Person.Role.CHILD,
            first_name="Tom",
            last_name="Martin",
            birth_date=date(2019, 2, 8),
        )
        assert child.household == parent.household
        assert child.user is None
        assert Guardianship.objects.filter(guardian=parent, child=child).exists()
        entry = AuditEntry.objects.get(action="household.member_added")
        assert entry.person == child
        assert entry.actor == parent.user

    def test_a_partner_is_an_adult_of_the_same_household(self):
        parent = ResidentFactory()
        partner = add_household_member(
            actor=parent.user,
            household=parent.household,
            role=Person.Role.ADULT,
            first_name="Alex",
            last_name="Martin",
            birth_date=date(1984, 11, 3),
        )
        assert partner.role == Person.Role.ADULT
        assert not Guardianship.objects.exists()

    @pytest.mark.parametrize(
        ("role", "birth_date", "field"),
        [
            (Person.Role.CHILD, date(2000, 1, 1), "birth_date"),  # 26: not a child
            (Person.Role.ADULT, date(2015, 1, 1), "birth_date"),  # 11: not an adult
            (Person.Role.CHILD, date(2027, 1, 1), "birth_date"),  # not born yet
            (Person.Role.CHILD, date(1850, 1, 1), "birth_date"),
            ("pet", date(2020, 1, 1), "role"),
        ],
    )
    def test_impossible_members_are_refused_with_the_field_named(self, role, birth_date, field):
        parent = ResidentFactory()
        with pytest.raises(DomainError) as refused:
            add_household_member(
                actor=parent.user,
                household=parent.household,
                role=role,
                first_name="X",
                last_name="Y",
                birth_date=birth_date,
            )
        assert refused.value.field == field
        assert parent.household.members.count() == 1

    def test_a_resident_cannot_add_to_another_household(self):
        parent, stranger = ResidentFactory(), ResidentFactory()
        with pytest.raises(Forbidden):
            add_household_member(
                actor=stranger.user,
                household=parent.household,
                role=Person.Role.CHILD,
                first_name="X",
                last_name="Y",
                birth_date=date(2020, 1, 1),
            )
        assert parent.household.members.count() == 1

    def test_a_child_of_the_household_cannot_manage_it(self):
        parent = ResidentFactory()
        teenager = add_household_member(
            actor=parent.user,
            household=parent.household,
            role=Person.Role.CHILD,
            first_name="Léa",
            last_name="Martin",
            birth_date=date(2010, 6, 1),
        )
        teenager.user = UserFactory()
        teenager.save()
        with pytest.raises(Forbidden):
            add_household_member(
                actor=teenager.user,
                household=parent.household,
                role=Person.Role.CHILD,
                first_name="X",
                last_name="Y",
                birth_date=date(2020, 1, 1),
            )


class TestMoves:
    def test_a_move_closes_the_old_address_and_keeps_it_in_the_history(self):
        resident = ResidentFactory(address__valid_from=date(2019, 9, 1))
        old = queries.current_address(resident.household)
        outside = CommuneFactory(territory=None, name="Figeac")
        change_address(
            actor=resident.user,
            household=resident.household,
            address=address(outside, "5 place Champollion"),
            moved_in=date(2026, 10, 1),
        )
        old.refresh_from_db()
        assert old.valid_until == date(2026, 10, 1)
        assert queries.current_address(resident.household).commune == outside
        # The day before the move the household still lived at the old address.
        assert queries.current_address(resident.household, on=date(2026, 9, 30)) == old
        assert resident.household.addresses.count() == 2
        assert AuditEntry.objects.filter(action="household.address_changed").count() == 1

    def test_residency_follows_the_commune(self):
        resident = ResidentFactory()
        assert queries.household_overview(resident.household).is_resident
        change_address(
            actor=resident.user,
            household=resident.household,
            address=address(CommuneFactory(territory=None)),
            moved_in=date(2026, 11, 1),
        )
        assert not queries.household_overview(resident.household).is_resident

    def test_a_move_dated_before_the_current_address_is_refused_and_nothing_changes(self):
        resident = ResidentFactory(address__valid_from=date(2024, 1, 1))
        with pytest.raises(DomainError) as refused:
            change_address(
                actor=resident.user,
                household=resident.household,
                address=address(CommuneFactory()),
                moved_in=date(2023, 12, 31),
            )
        assert refused.value.field == "moved_in"
        assert resident.household.addresses.count() == 1
        assert resident.household.addresses.get().valid_until is None

    def test_a_move_far_in_the_future_is_refused(self):
        resident = ResidentFactory()
        with pytest.raises(DomainError) as refused:
            change_address(
                actor=resident.user,
                household=resident.household,
                address=address(CommuneFactory()),
                moved_in=date(2027, 6, 1),
            )
        assert refused.value.field == "moved_in"

    @pytest.mark.parametrize(
        ("line1", "postcode", "field"),
        [
            ("  ", "46000", "line1"),
            ("1 rue X", "4600", "postcode"),
            ("1 rue X", "ABCDE", "postcode"),
        ],
    )
    def test_bad_addresses_name_their_field(self, line1, postcode, field):
        resident = ResidentFactory()
        with pytest.raises(DomainError) as refused:
            change_address(
                actor=resident.user,
                household=resident.household,
                address=AddressInput(
                    line1=line1, line2="", postcode=postcode, commune=CommuneFactory()
                ),
                moved_in=date(2026, 11, 1),
            )
        assert refused.value.field == field
        assert resident.household.addresses.count() == 1


class TestFamilyQuotient:
    def test_the_latest_declaration_covering_a_day_wins_and_the_first_is_kept(self):
        resident = ResidentFactory()
        first = declare_family_quotient(
            actor=resident.user,
            household=resident.household,
            amount=900,
            valid_from=date(2026, 1, 1),
            valid_until=date(2026, 12, 31),
        )
        second = declare_family_quotient(
            actor=resident.user,
            household=resident.household,
            amount=620,
            valid_from=date(2026, 7, 1),
            valid_until=date(2026, 12, 31),
        )
        assert queries.family_quotient_on(resident.household, date(2026, 3, 1)) == first
        assert queries.family_quotient_on(resident.household, date(2026, 9, 1)) == second
        assert queries.family_quotient_on(resident.household, date(2027, 1, 1)) is None
        assert FamilyQuotient.objects.count() == 2
        assert second.source == FamilyQuotient.Source.DECLARED

    @pytest.mark.parametrize(
        ("amount", "valid_from", "valid_until", "field"),
        [
            (-1, date(2026, 1, 1), date(2026, 12, 31), "amount"),
            (10**6, date(2026, 1, 1), date(2026, 12, 31), "amount"),
            (800, date(2026, 6, 1), date(2026, 5, 31), "valid_until"),
            (800, date(2026, 1, 1), date(2028, 1, 1), "valid_until"),
        ],
    )
    def test_bad_declarations_are_refused(self, amount, valid_from, valid_until, field):
        resident = ResidentFactory()
        with pytest.raises(DomainError) as refused:
            declare_family_quotient(
                actor=resident.user,
                household=resident.household,
                amount=amount,
                valid_from=valid_from,
                valid_until=valid_until,
            )
        assert refused.value.field == field
        assert not FamilyQuotient.objects.exists()
