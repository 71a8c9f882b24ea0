"""Declarations that lower a price or raise a quota are not taken on trust: the territory
chooses per criterion whether an unverified one applies at once, for a grace period, or waits
for a clerk; a verified value is never overridden by a newer unverified one."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from identity import trust
from identity.actions import household as actions
from identity.models import FamilyQuotient, Person, StaffRole, TrustPolicy
from services.catalog.tariffs import quote
from services.waste_bags.queries import quota_for
from tests.factories import (
    CommuneFactory,
    ResidentFactory,
    TariffLineFactory,
    TerritoryFactory,
    quotient_brackets,
    site_administrator,
    staff_user,
)
from tests.services.waste_bags.factories import quota_table

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 3, 10)
Criterion, Mode = TrustPolicy.Criterion, TrustPolicy.Mode


@pytest.fixture(autouse=True)
def _on_day():
    with time_machine.travel(datetime(2026, 3, 10, 10, 0, tzinfo=PARIS), tick=False):
        yield


def rule(criterion, mode, grace_days=30):
    territory = TerritoryFactory()
    return TrustPolicy.objects.create(
        territory=territory, criterion=criterion, mode=mode, grace_days=grace_days
    )


@pytest.fixture
def pool_book():
    """A 10-entry pool book: 33 € for residents, 14 € in QF 1 (≤ 500 €)."""
    quotient_brackets()
    line = TariffLineFactory(residency="resident", price_cents=3300)
    TariffLineFactory(grid=line.grid, residency="resident", qf_bracket=1, price_cents=1400)
    TariffLineFactory(grid=line.grid, residency="non_resident", price_cents=4500)
    return line.grid.product


def declare(resident, amount, **period):
    return actions.declare_family_quotient(
        actor=resident.user,
        household=resident.household,
        amount=amount,
        valid_from=period.get("valid_from", date(2026, 1, 1)),
        valid_until=period.get("valid_until", date(2026, 12, 31)),
    )


def price(product, person, on=DAY):
    with translation.override("fr"):
        quoted = quote(product=product, person=person, on=on)
    return quoted.price_cents, quoted.explanation


def test_a_quotient_of_0_waits_for_a_clerk_when_the_town_says_so(pool_book):
    rule(Criterion.FAMILY_QUOTIENT, Mode.AWAIT_VERIFICATION)
    camille = ResidentFactory()
    declare(camille, 0)
    assert price(pool_book, camille) == (3300, "Tarif résident")
    clerk = staff_user(StaffRole.Role.CLERK)
    trust.record_verified_quotient(
        actor=clerk,
        household=camille.household,
        amount=420,
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 12, 31),
        evidence="vault:abc",
    )
    assert price(pool_book, camille) == (1400, "Tarif résident, QF 1, QF vérifié")


def test_without_a_rule_a_declaration_applies_at_once_and_says_so(pool_book):
    camille = ResidentFactory()
    declare(camille, 0)
    assert price(pool_book, camille) == (1400, "Tarif résident, QF 1, QF déclaré")


def test_a_grace_period_lets_a_declaration_apply_then_wait(pool_book):
    rule(Criterion.FAMILY_QUOTIENT, Mode.UNTIL_DATE, grace_days=30)
    camille = ResidentFactory()
    declare(camille, 300)
    assert price(pool_book, camille, on=date(2026, 4, 9))[0] == 1400  # day 30
    assert price(pool_book, camille, on=date(2026, 4, 10))[0] == 3300  # day 31


def test_a_verified_quotient_is_never_overridden_by_a_newer_declaration(pool_book):
    camille = ResidentFactory()
    clerk = staff_user(StaffRole.Role.CLERK)
    verified = actions.declare_family_quotient(
        actor=clerk,
        household=camille.household,
        amount=850,
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 12, 31),
    )
    assert verified.source == FamilyQuotient.Source.VERIFIED
    declare(camille, 0)  # later, unverified, and "immediate"
    assert trust.family_quotient_on(camille.household, DAY).quotient == verified
    assert price(pool_book, camille) == (3300, "Tarif résident")


def test_a_clerk_cannot_verify_their_own_household():
    clerk_person = ResidentFactory()
    StaffRole.objects.create(user=clerk_person.user, role=StaffRole.Role.CLERK)
    from identity.errors import Forbidden

    with pytest.raises(Forbidden):
        trust.verify_residency(
            actor=clerk_person.user,
            household=clerk_person.household,
            proof_date=DAY,
            evidence="x",
        )


def test_residency_waits_for_a_verified_proof_from_its_date(pool_book):
    rule(Criterion.RESIDENCY, Mode.AWAIT_VERIFICATION)
    camille = ResidentFactory(address__commune=CommuneFactory())
    assert price(pool_book, camille)[0] == 4500  # declared, not yet verified
    clerk = staff_user(StaffRole.Role.CLERK)
    trust.verify_residency(
        actor=clerk, household=camille.household, proof_date=date(2026, 3, 1), evidence="vault:x"
    )
    assert price(pool_book, camille, on=date(2026, 2, 28))[0] == 4500
    assert price(pool_book, camille, on=date(2026, 3, 1))[0] == 3300


def test_a_move_out_of_the_territory_applies_at_once(pool_book):
    rule(Criterion.RESIDENCY, Mode.AWAIT_VERIFICATION)
    camille = ResidentFactory()
    clerk = staff_user(StaffRole.Role.CLERK)
    trust.verify_residency(
        actor=clerk, household=camille.household, proof_date=date(2026, 1, 5), evidence="x"
    )
    actions.change_address(
        actor=camille.user,
        household=camille.household,
        address=actions.AddressInput("2 rue Haute", "", "46100", CommuneFactory(territory=None)),
        moved_in=date(2026, 3, 5),
    )
    assert price(pool_book, camille)[0] == 4500


def test_a_verified_residency_survives_a_move_within_the_territory(pool_book):
    rule(Criterion.RESIDENCY, Mode.AWAIT_VERIFICATION)
    camille = ResidentFactory()
    clerk = staff_user(StaffRole.Role.CLERK)
    trust.verify_residency(
        actor=clerk, household=camille.household, proof_date=date(2026, 1, 5), evidence="x"
    )
    actions.change_address(
        actor=camille.user,
        household=camille.household,
        address=actions.AddressInput("5 quai Cavaignac", "", "46090", CommuneFactory()),
        moved_in=date(2026, 3, 5),
    )
    assert price(pool_book, camille)[0] == 3300


def add_child(resident, first_name="Enfant"):
    return actions.add_household_member(
        actor=resident.user,
        household=resident.household,
        role=Person.Role.CHILD,
        first_name=first_name,
        last_name="Martin",
        birth_date=date(2018, 1, 1),
    )


def test_declared_members_raise_the_bag_quota_only_as_the_rule_says():
    quota_table(year=2026)  # 1: 2 rolls, 2: 3, 3–4: 4, 5+: 5
    camille = ResidentFactory()
    for n in range(4):
        add_child(camille, f"Enfant {n}")
    assert quota_for(camille.household, 2026) == 5  # no rule: at once
    rule(Criterion.HOUSEHOLD_SIZE, Mode.AWAIT_VERIFICATION)
    assert quota_for(camille.household, 2026) == 2  # only the account holder counts
    clerk = staff_user(StaffRole.Role.CLERK)
    children = list(camille.household.members.filter(role=Person.Role.CHILD)[:2])
    trust.confirm_members(
        actor=clerk, household=camille.household, members=children, evidence="vault:livret"
    )
    assert quota_for(camille.household, 2026) == 4


def test_a_household_stops_growing_online_at_15_members(client):
    camille = ResidentFactory()
    client.force_login(camille.user)
    for n in range(14):
        add_child(camille, f"Enfant {n}")
    response = client.post(
        "/api/v1/household/members",
        {
            "role": "child",
            "first_name": "Seizième",
            "last_name": "Martin",
            "birth_date": "2020-01-01",
        },
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "household_full"
    assert "15" in response.json()["message"]
    assert camille.household.members.count() == 15
    # A clerk who saw the family record book adds more; they count at once.
    clerk = staff_user(StaffRole.Role.CLERK)
    extra = actions.add_household_member(
        actor=clerk,
        household=camille.household,
        role=Person.Role.CHILD,
        first_name="Seizième",
        last_name="Martin",
        birth_date=date(2020, 1, 1),
    )
    assert extra.verified_by == clerk


def test_the_town_sets_its_rules_in_the_admin(client):
    admin = site_administrator()
    territory = TerritoryFactory()
    client.force_login(admin)
    page = client.get(f"/admin/identity/territory/{territory.pk}/change/").content.decode()
    assert "trust-TOTAL_FORMS" in page


# --- Mon espace says what the prices use ----------------------------------------------------


def home_summary(client, resident) -> str:
    client.force_login(resident.user)
    with translation.override("fr"):
        page = client.get("/mon-espace/", headers={"accept-language": "fr"}).content.decode()
    start = page.index('<dl class="summary">')
    summary = page[start : page.index("</dl>", start)].replace("&nbsp;", " ")
    return " ".join(summary.split())  # no-break spaces (French typography) read as spaces


def test_mon_espace_shows_the_quotient_the_prices_use_not_a_declaration_waiting(client):
    rule(Criterion.FAMILY_QUOTIENT, Mode.AWAIT_VERIFICATION)
    camille = ResidentFactory()
    declare(camille, 300)
    summary = home_summary(client, camille)
    assert "300 € déclaré : plein tarif tant qu’un agent ne l’a pas vérifié" in summary
    trust.record_verified_quotient(
        actor=staff_user(StaffRole.Role.CLERK),
        household=camille.household,
        amount=420,
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 12, 31),
        evidence="vault:abc",
    )
    declare(camille, 100)  # newer, unverified: waits
    summary = home_summary(client, camille)
    assert "420 € (jusqu’au 31 décembre 2026)" in summary
    assert "déclaré, pas encore vérifié" not in summary
    assert "nouvelle déclaration de 100 €" in summary


def test_mon_espace_says_an_unverified_address_is_not_yet_resident_pricing(client):
    rule(Criterion.RESIDENCY, Mode.AWAIT_VERIFICATION)
    camille = ResidentFactory()
    summary = home_summary(client, camille)
    assert "habitant du territoire" not in summary
    assert "tarifs habitants dès qu’un agent a vérifié un justificatif" in summary
