"""Members of a household: the same child is not added twice, a member is corrected by who
answers for them (not after the town hall verified them), and leaves the household without
anything being deleted or lost — refused, with the reason, while they still hold something."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from identity.actions.household import add_household_member, comparable_name
from identity.actions.members import correct_member, remove_member
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import AuditEntry, Guardianship, Person
from identity.vocabulary import detail
from tests.factories import (
    CardFactory,
    EntitlementFactory,
    PersonFactory,
    ResidentFactory,
    UserFactory,
)
from tests.payments.factories import topped_up

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(date(2026, 11, 25), tick=False):
        yield


@pytest.fixture
def parent():
    return ResidentFactory(first_name="Camille", last_name="Martin")


def add_child(parent, first_name="Léa", last_name="Martin", birth_date=date(2015, 6, 3)):
    return add_household_member(
        actor=parent.user,
        household=parent.household,
        role=Person.Role.CHILD,
        first_name=first_name,
        last_name=last_name,
        birth_date=birth_date,
    )


class TestTheSameChildTwice:
    def test_names_compare_without_accents_case_or_hyphens(self):
        assert comparable_name(" Léa-Rose  MARTIN ") == comparable_name("lea rose martin")
        assert comparable_name("Léa") != comparable_name("Léo")

    @pytest.mark.parametrize(
        ("first", "last"), [("Léa", "Martin"), ("LEA", "martin"), ("lea ", " Martín")]
    )
    def test_the_same_names_and_birth_date_are_refused_with_a_message(self, parent, first, last):
        add_child(parent)
        with pytest.raises(Conflict) as refused:
            add_child(parent, first_name=first, last_name=last)
        assert refused.value.field == "first_name"
        assert "Léa Martin" in refused.value.message
        assert "03/06/2015" in refused.value.message
        assert parent.household.members.count() == 2
        assert AuditEntry.objects.filter(action="household.member_added").count() == 1

    def test_twins_with_other_first_names_are_two_children(self, parent):
        add_child(parent)
        add_child(parent, first_name="Tom")
        assert parent.household.members.count() == 3

    def test_the_page_shows_the_refusal_next_to_the_first_name(self, client, parent):
        add_child(parent)
        client.force_login(parent.user)
        response = client.post(
            reverse("identity:add_member"),
            {
                "role": "child",
                "first_name": "lea",
                "last_name": "MARTIN",
                "birth_date": "2015-06-03",
            },
        )
        assert response.status_code == 200
        assert "déjà membre de ce foyer" in response.content.decode()
        assert parent.household.members.count() == 2


class TestCorrection:
    def test_a_guardian_corrects_a_child_and_the_change_is_audited(self, parent):
        child = add_child(parent, first_name="Lea")
        correct_member(
            actor=parent.user,
            person=child,
            first_name="Léa",
            last_name="Martin",
            birth_date=date(2015, 6, 4),
        )
        child.refresh_from_db()
        assert (child.first_name, child.birth_date) == ("Léa", date(2015, 6, 4))
        entry = AuditEntry.objects.get(action="household.member_corrected")
        assert entry.actor == parent.user
        assert entry.person == child
        assert entry.changes == {
            "first_name": ["Lea", "Léa"],
            "birth_date": ["2015-06-03", "2015-06-04"],
        }
        assert "04/06/2015" in detail(entry)

    def test_a_member_verified_by_the_town_hall_is_corrected_there(self, parent):
        child = add_child(parent)
        Person.objects.filter(pk=child.pk).update(verified_at=timezone.now())
        with pytest.raises(Conflict) as refused:
            correct_member(
                actor=parent.user,
                person=child,
                first_name="Lou",
                last_name="Martin",
                birth_date=child.birth_date,
            )
        assert refused.value.code == "verified_member"
        child.refresh_from_db()
        assert child.first_name == "Léa"
        assert not AuditEntry.objects.filter(action="household.member_corrected").exists()

    def test_the_household_page_marks_a_verified_member_instead_of_offering_a_correction(
        self, client, parent
    ):
        child = add_child(parent)
        Person.objects.filter(pk=child.pk).update(verified_at=timezone.now())
        client.force_login(parent.user)
        page = client.get(reverse("identity:household")).content.decode()
        assert reverse("identity:correct_member", args=[child.public_id]) not in page
        assert "Vérifié par la mairie" in page
        assert reverse("identity:correct_member", args=[parent.public_id]) in page

    def test_a_correction_cannot_make_a_member_the_double_of_another(self, parent):
        add_child(parent)
        tom = add_child(parent, first_name="Tom")
        with pytest.raises(Conflict):
            correct_member(
                actor=parent.user,
                person=tom,
                first_name="lea",
                last_name="Martin",
                birth_date=date(2015, 6, 3),
            )

    def test_a_child_stays_under_18(self, parent):
        child = add_child(parent)
        with pytest.raises(DomainError) as refused:
            correct_member(
                actor=parent.user,
                person=child,
                first_name="Léa",
                last_name="Martin",
                birth_date=date(2000, 1, 1),
            )
        assert refused.value.field == "birth_date"

    def test_nothing_changed_is_refused(self, parent):
        child = add_child(parent)
        with pytest.raises(DomainError):
            correct_member(
                actor=parent.user,
                person=child,
                first_name="Léa",
                last_name="Martin",
                birth_date=date(2015, 6, 3),
            )

    def test_an_adult_of_the_household_corrects_neither_a_child_they_do_not_guard_nor_an_account(
        self, parent
    ):
        child = add_child(parent)
        partner = PersonFactory(household=parent.household, user=UserFactory())
        with pytest.raises(Forbidden):  # not Léa's guardian
            correct_member(
                actor=partner.user,
                person=child,
                first_name="Lou",
                last_name="Martin",
                birth_date=child.birth_date,
            )
        with pytest.raises(Forbidden):  # an adult with an account of their own
            correct_member(
                actor=parent.user,
                person=partner,
                first_name="Lou",
                last_name="Martin",
                birth_date=partner.birth_date,
            )

    def test_the_page_corrects_and_another_household_gets_a_404(self, client, parent):
        child = add_child(parent, first_name="Lea")
        client.force_login(parent.user)
        url = reverse("identity:correct_member", args=[child.public_id])
        assert 'value="Lea"' in client.get(url).content.decode()
        response = client.post(
            url, {"first_name": "Léa", "last_name": "Martin", "birth_date": "2015-06-03"}
        )
        assert response.status_code == 302
        child.refresh_from_db()
        assert child.first_name == "Léa"
        client.force_login(ResidentFactory().user)
        assert client.get(url).status_code == 404


class TestRemoval:
    def test_a_guardian_removes_a_child_who_keeps_their_history(self, parent):
        child = add_child(parent)
        household = parent.household
        left = remove_member(actor=parent.user, person=child)
        assert left.pk == child.pk
        assert left.household != household
        assert list(household.members.all()) == [parent]
        link = Guardianship.objects.get(child=child)
        assert link.ended_on == date(2026, 11, 25)
        entry = AuditEntry.objects.get(action="household.member_removed")
        assert entry.household == household
        assert entry.person == child
        assert AuditEntry.objects.filter(action="household.member_added", person=child).exists()

    def test_a_partner_leaves_by_themself_and_keeps_their_account(self, parent):
        partner = PersonFactory(household=parent.household, user=UserFactory())
        left = remove_member(actor=partner.user, person=partner)
        assert left.user == partner.user
        assert left.household.members.count() == 1
        assert not left.household.addresses.exists()
        assert list(parent.household.members.all()) == [parent]

    def test_an_adult_who_left_finds_their_own_space_and_declares_an_address(self, client, parent):
        # Named: a random first name may be Camille's, and the page below must not show hers.
        partner = PersonFactory(
            household=parent.household, first_name="Alex", user=UserFactory(first_name="Alex")
        )
        client.force_login(partner.user)
        left = client.post(reverse("identity:remove_member", args=[partner.public_id]))
        assert left.status_code == 302
        assert client.get(reverse("portal:home")).status_code == 200
        page = client.get(reverse("identity:household")).content.decode()
        assert parent.first_name not in page
        commune = parent.household.addresses.get().commune
        moved = client.post(
            reverse("identity:change_address"),
            {
                "line1": "4 rue du Château",
                "postcode": "46000",
                "commune": commune.pk,
                "moved_in": "2026-11-20",
            },
        )
        assert moved.status_code == 302
        partner.refresh_from_db()
        assert partner.household.addresses.get().line1 == "4 rue du Château"

    def test_the_only_adult_with_an_account_cannot_leave_the_children_behind(self, parent):
        add_child(parent)
        with pytest.raises(Conflict) as refused:
            remove_member(actor=parent.user, person=parent)
        assert refused.value.code == "last_manager"
        assert parent.household.members.count() == 2

    def test_someone_who_does_not_answer_for_the_member_cannot_remove_them(self, parent):
        child = add_child(parent)
        partner = PersonFactory(household=parent.household, user=UserFactory())
        with pytest.raises(Forbidden):
            remove_member(actor=partner.user, person=child)
        with pytest.raises(Forbidden):
            remove_member(actor=ResidentFactory().user, person=child)
        assert parent.household.members.count() == 3

    def test_a_member_holding_entries_cannot_leave_and_is_told_why(self, parent):
        child = add_child(parent)
        EntitlementFactory(holder=child, label="Carnet 10 entrées")
        with pytest.raises(Conflict) as refused:
            remove_member(actor=parent.user, person=child)
        assert "Carnet 10 entrées" in refused.value.message
        child.refresh_from_db()
        assert child.household == parent.household
        assert Guardianship.objects.active().filter(child=child).exists()
        assert not AuditEntry.objects.filter(action="household.member_removed").exists()

    def test_a_used_up_entry_book_does_not_hold_them(self, parent):
        child = add_child(parent)
        EntitlementFactory(holder=child, entries_left=0)
        remove_member(actor=parent.user, person=child)

    def test_a_card_in_use_or_money_on_the_wallet_hold_them(self, parent):
        child = add_child(parent)
        card = CardFactory(holder=child)
        with pytest.raises(Conflict) as refused:
            remove_member(actor=parent.user, person=child)
        assert "carte" in refused.value.message
        card.status = card.Status.REVOKED
        card.save()
        topped_up(child, 12_50, actor=parent)
        with pytest.raises(Conflict) as refused:
            remove_member(actor=parent.user, person=child)
        assert "12,50" in refused.value.message

    def test_the_page_lists_what_holds_them_and_offers_no_button(self, client, parent):
        child = add_child(parent)
        EntitlementFactory(holder=child, label="Pass été")
        client.force_login(parent.user)
        page = client.get(reverse("identity:remove_member", args=[child.public_id]))
        text = page.content.decode()
        assert "Pass été" in text
        assert 'type="submit"' not in text.split("</header>")[-1].split("<footer")[0]

    def test_a_lone_member_is_told_why_on_the_page_and_by_the_action(self, client):
        alone = ResidentFactory(first_name="Solène")
        client.force_login(alone.user)
        page = client.get(reverse("identity:remove_member", args=[alone.public_id]))
        assert 'data-refusal="only_member"' in page.content.decode()
        refused = client.post(reverse("identity:remove_member", args=[alone.public_id]))
        assert "seul membre de ce foyer" in refused.content.decode()
        alone.refresh_from_db()
        assert alone.household.members.count() == 1
        assert not AuditEntry.objects.filter(action="household.member_removed").exists()

    def test_the_page_removes_and_the_household_page_no_longer_lists_them(self, client, parent):
        child = add_child(parent, first_name="Zoé")
        client.force_login(parent.user)
        household = client.get(reverse("identity:household")).content.decode()
        assert reverse("identity:remove_member", args=[child.public_id]) in household
        response = client.post(reverse("identity:remove_member", args=[child.public_id]))
        assert response.status_code == 302
        after = client.get(reverse("identity:household")).content.decode()
        assert "Zoé Martin a quitté le foyer" in after
        assert reverse("identity:remove_member", args=[child.public_id]) not in after
