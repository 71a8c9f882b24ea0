"""A town-hall clerk corrects a resident's file after giving a reason. Each correction is one
audit entry with the reason and the before/after, shown to the resident; input that makes no
sense is refused naming the field, with nothing written and nothing audited."""

from datetime import date

import pytest
from django.utils import translation

from identity import queries, vocabulary
from identity.actions.corrections import (
    add_guardian,
    correct_address_period,
    correct_family_quotient,
    correct_identity,
    end_guardianship,
)
from identity.actions.household import AddressInput, change_address
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import AuditEntry, FamilyQuotient, Guardianship, HouseholdAddress, Person
from identity.permissions import can_act_for
from tests.factories import (
    CommuneFactory,
    FamilyQuotientFactory,
    PersonFactory,
    ResidentFactory,
    guardian_and_child,
    staff_user,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("on_25_november_2026")]

REASON = "Acte de naissance présenté au guichet"


@pytest.fixture
def clerk():
    return staff_user("clerk")


def correct_camille(actor, camille, **changes):
    """Her identity as the proof shows it (Camille, not Camile), with `changes`."""
    data = {
        "first_name": "Camille",
        "last_name": "Martin",
        "birth_date": date(1986, 4, 12),
        "reason": REASON,
    }
    return correct_identity(actor=actor, person=camille, **(data | changes))


def corrections():
    return AuditEntry.objects.filter(
        action__in=[
            "person.corrected",
            "household.address_corrected",
            "household.quotient_corrected",
            "person.guardian_added",
            "person.guardian_ended",
        ]
    )


# --- Names and date of birth ----------------------------------------------------------------


def test_a_clerk_corrects_a_name_and_the_resident_reads_before_and_after(clerk, camille):
    correct_camille(clerk, camille, birth_date=date(1986, 4, 21))
    camille.refresh_from_db()
    assert (camille.first_name, camille.birth_date) == ("Camille", date(1986, 4, 21))
    entry = AuditEntry.objects.get(action="person.corrected")
    assert (entry.actor, entry.person, entry.reason) == (clerk, camille, REASON)
    assert entry.changes == {
        "first_name": ["Camile", "Camille"],
        "birth_date": ["1986-04-12", "1986-04-21"],
    }
    assert entry in queries.staff_accesses_to_household(camille.household)
    with translation.override("fr"):
        row = vocabulary.access_row(entry)
        assert row.what == "Identité corrigée"
        assert row.why == REASON
        assert [(c.field, c.before, c.after) for c in row.changes] == [
            ("Prénom", "Camile", "Camille"),
            ("Date de naissance", "12/04/1986", "21/04/1986"),
        ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason": "  "}, "reason"),
        ({"reason": "x" * 201}, "reason"),
        ({"birth_date": date(2026, 11, 26)}, "birth_date"),
        ({"birth_date": date(2010, 1, 1)}, "birth_date"),  # an adult would be 16
        ({"first_name": " "}, "first_name"),
        ({"last_name": ""}, "last_name"),
    ],
    ids=["no-reason", "reason-too-long", "born-tomorrow", "adult-too-young", "no-first", "no-last"],
)
def test_an_identity_correction_that_makes_no_sense_is_refused(clerk, camille, changes, field):
    with pytest.raises(DomainError) as refused:
        correct_camille(clerk, camille, **changes)
    assert refused.value.field == field
    camille.refresh_from_db()
    assert camille.first_name == "Camile"
    assert not corrections().exists()


def test_a_correction_cannot_make_a_member_the_double_of_another(clerk, camille):
    from tests.factories import PersonFactory

    PersonFactory(
        household=camille.household,
        first_name="Camille",
        last_name="MARTIN",
        birth_date=date(1986, 4, 12),
    )
    with pytest.raises(DomainError) as refused:
        correct_camille(clerk, camille)
    assert refused.value.code == "already_a_member"
    camille.refresh_from_db()
    assert camille.first_name == "Camile"
    assert not corrections().exists()


def test_nothing_to_correct_is_refused(clerk, camille):
    with pytest.raises(DomainError):
        correct_camille(clerk, camille, first_name="Camile")
    assert not corrections().exists()


@pytest.mark.parametrize("who", ["resident", "pool_agent", "admin", "finance_officer"])
def test_only_a_clerk_corrects(camille, who):
    actor = camille.user if who == "resident" else staff_user(who)
    with pytest.raises(Forbidden):
        correct_camille(actor, camille)
    assert not corrections().exists()


# --- Address history ------------------------------------------------------------------------


@pytest.fixture
def moved(camille):
    """Camille lived at 1 place François Mitterrand from 2020, moved on 1 May 2025."""
    change_address(
        actor=camille.user,
        household=camille.household,
        address=AddressInput(
            line1="8 qaui Cavaignac", line2="", postcode="46000", commune=CommuneFactory()
        ),
        moved_in=date(2025, 5, 1),
    )
    old, new = camille.household.addresses.order_by("valid_from")
    return old, new


def lines(address: HouseholdAddress, **changes) -> AddressInput:
    data = {
        "line1": address.line1,
        "line2": address.line2,
        "postcode": address.postcode,
        "commune": address.commune,
        **changes,
    }
    return AddressInput(**data)


def test_a_clerk_corrects_the_address_and_dates_of_a_period(clerk, moved):
    old, new = moved
    correct_address_period(
        actor=clerk,
        address=old,
        lines=lines(old),
        valid_from=date(2019, 9, 1),
        valid_until=date(2025, 5, 1),
        reason=REASON,
    )
    correct_address_period(
        actor=clerk,
        address=new,
        lines=lines(new, line1="8 quai Cavaignac"),
        valid_from=new.valid_from,
        valid_until=None,
        reason="Faute de frappe",
    )
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.valid_from == date(2019, 9, 1)
    assert new.line1 == "8 quai Cavaignac"
    entries = AuditEntry.objects.filter(action="household.address_corrected").order_by("pk")
    assert [e.changes for e in entries] == [
        {"valid_from": ["2020-01-01", "2019-09-01"]},
        {"line1": ["8 qaui Cavaignac", "8 quai Cavaignac"]},
    ]
    assert queries.current_address(old.household).pk == new.pk


@pytest.mark.parametrize(
    ("which", "valid_from", "valid_until", "field"),
    [
        ("old", date(2020, 1, 1), date(2025, 6, 1), "valid_until"),  # runs into the new one
        ("new", date(2025, 4, 1), None, "valid_from"),  # starts inside the old one
        ("old", date(2020, 1, 1), None, "valid_until"),  # a second current address
        ("old", date(2020, 1, 1), date(2019, 1, 1), "valid_until"),  # ends before it starts
        ("new", date(2027, 6, 1), None, "valid_from"),  # far in the future
    ],
    ids=["overlap-end", "overlap-start", "two-current", "reversed", "future"],
)
def test_overlapping_or_impossible_periods_are_refused(
    clerk, moved, which, valid_from, valid_until, field
):
    old, new = moved
    address = old if which == "old" else new
    with pytest.raises(DomainError) as refused:
        correct_address_period(
            actor=clerk,
            address=address,
            lines=lines(address),
            valid_from=valid_from,
            valid_until=valid_until,
            reason=REASON,
        )
    assert refused.value.field == field
    assert [(a.valid_from, a.valid_until) for a in HouseholdAddress.objects.order_by("pk")] == [
        (date(2020, 1, 1), date(2025, 5, 1)),
        (date(2025, 5, 1), None),
    ]
    assert not corrections().exists()


def test_an_address_correction_needs_a_reason_and_a_postcode(clerk, moved):
    old, _new = moved
    for reason, postcode, field in [("", "46000", "reason"), (REASON, "460", "postcode")]:
        with pytest.raises(DomainError) as refused:
            correct_address_period(
                actor=clerk,
                address=old,
                lines=lines(old, postcode=postcode, line1="2 rue Wilson"),
                valid_from=old.valid_from,
                valid_until=old.valid_until,
                reason=reason,
            )
        assert refused.value.field == field
    assert not corrections().exists()


# --- Family quotient declarations -----------------------------------------------------------


def test_a_quotient_correction_is_a_new_row_and_the_old_one_stays_traceable(clerk, camille):
    wrong = FamilyQuotientFactory(
        household=camille.household,
        amount=1850,
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 12, 31),
        source="declared",
    )
    corrected = correct_family_quotient(
        actor=clerk,
        quotient=wrong,
        amount=850,
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 6, 30),
        reason="Attestation CAF présentée",
    )
    assert FamilyQuotient.objects.count() == 2
    wrong.refresh_from_db()
    assert wrong.amount == 1850  # never overwritten
    assert corrected.correction_of == wrong
    assert corrected.source == FamilyQuotient.Source.VERIFIED
    # The wrong declaration no longer counts, even on days its correction does not cover.
    assert queries.family_quotient_on(camille.household, date(2026, 3, 1)) == corrected
    assert queries.family_quotient_on(camille.household, date(2026, 9, 1)) is None
    entry = AuditEntry.objects.get(action="household.quotient_corrected")
    assert entry.changes == {
        "amount": ["1850", "850"],
        "valid_until": ["2026-12-31", "2026-06-30"],
    }
    assert entry.reason == "Attestation CAF présentée"
    with pytest.raises(Conflict):
        correct_family_quotient(
            actor=clerk,
            quotient=wrong,
            amount=900,
            valid_from=date(2026, 1, 1),
            valid_until=date(2026, 6, 30),
            reason=REASON,
        )


@pytest.mark.parametrize(
    ("amount", "valid_until", "reason", "field"),
    [
        (850, date(2026, 12, 31), "", "reason"),
        (-1, date(2026, 12, 31), REASON, "amount"),
        (850, date(2025, 12, 31), REASON, "valid_until"),
    ],
)
def test_a_quotient_correction_that_makes_no_sense_is_refused(
    clerk, camille, amount, valid_until, reason, field
):
    wrong = FamilyQuotientFactory(
        household=camille.household, valid_from=date(2026, 1, 1), valid_until=date(2026, 12, 31)
    )
    with pytest.raises(DomainError) as refused:
        correct_family_quotient(
            actor=clerk,
            quotient=wrong,
            amount=amount,
            valid_from=date(2026, 1, 1),
            valid_until=valid_until,
            reason=reason,
        )
    assert refused.value.field == field
    assert FamilyQuotient.objects.count() == 1
    assert not corrections().exists()


# --- Legal guardians ------------------------------------------------------------------------


def test_a_clerk_adds_and_ends_a_guardian_link_and_the_history_stays(clerk):
    parent, child = guardian_and_child()
    partner = ResidentFactory(first_name="Alex", last_name="Martin")
    link = add_guardian(actor=clerk, child=child, guardian=partner, reason="Jugement présenté")
    assert can_act_for(partner.user, child)

    end_guardianship(actor=clerk, guardianship=link, reason="Jugement de retrait")

    assert not can_act_for(partner.user, child)
    assert can_act_for(parent.user, child)
    link.refresh_from_db()
    assert link.ended_on == date(2026, 11, 25)
    assert Guardianship.objects.count() == 2  # ended, never deleted
    ended = AuditEntry.objects.get(action="person.guardian_ended")
    assert (ended.person, ended.reason) == (child, "Jugement de retrait")
    assert ended.changes == {"guardian": ["Alex Martin", ""]}
    assert ended in queries.staff_accesses_to_household(child.household)
    with pytest.raises(Conflict):
        end_guardianship(actor=clerk, guardianship=link, reason=REASON)
    # The link can be made again later: a new row.
    add_guardian(actor=clerk, child=child, guardian=partner, reason=REASON)
    assert Guardianship.objects.active().filter(guardian=partner).count() == 1


def test_guardian_links_that_make_no_sense_are_refused(clerk):
    parent, child = guardian_and_child()
    other_child = PersonFactory(household=parent.household, role=Person.Role.CHILD)
    cases = [
        ({"child": child, "guardian": parent, "reason": REASON}, "guardian"),  # already one
        ({"child": child, "guardian": other_child, "reason": REASON}, "guardian"),
        ({"child": parent, "guardian": ResidentFactory(), "reason": REASON}, "child"),
        ({"child": child, "guardian": ResidentFactory(), "reason": ""}, "reason"),
    ]
    for arguments, field in cases:
        with pytest.raises(DomainError) as refused:
            add_guardian(actor=clerk, **arguments)
        assert refused.value.field == field
    assert Guardianship.objects.count() == 1
    assert not corrections().exists()
