"""The tariff engine: one price per product, person and day, from the grid in force that day,
the most specific line that applies to the person's facts on that day (residency from the dated
address history, age, family-quotient bracket, verified reduced-rate statuses), the cheapest
when several reduced rates apply; and the rules that keep grids honest over time."""

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from identity import demo as identity_demo
from identity.errors import DomainError, Forbidden
from identity.models import AuditEntry, Person, StaffRole
from services.catalog import demo
from services.catalog.models import Product, QuotientBracket, TariffGrid, TariffLine
from services.catalog.tariffs import (
    LineInput,
    TariffFacts,
    choose_line,
    grid_in_force,
    publish_tariff_grid,
    quote,
    withdraw_tariff_grid,
)
from tests.factories import (
    AddressFactory,
    CommuneFactory,
    FamilyQuotientFactory,
    PersonFactory,
    ProductFactory,
    ReducedRateStatusFactory,
    TariffGridFactory,
    TariffLineFactory,
    quotient_brackets,
    staff_user,
)
from tests.portal.test_demo_roles import log_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 3, 15)  # a day of the 2025–2026 grid

# The 2025–2026 grid of a pool entry: (residency, age, QF bracket, reduced category, cents).
SEASON_2025 = [
    ("non_resident", "any", None, "any", 500),
    ("resident", "any", None, "any", 350),
    ("resident", "child", None, "any", 200),
    ("resident", "senior", None, "any", 250),
    ("resident", "any", 1, "any", 150),
    ("resident", "child", 1, "any", 100),
    ("any", "any", None, "student", 250),
    ("any", "any", None, "job_seeker", 200),
    ("any", "any", None, "disability", 150),
]
SEASON_2026 = [
    ("non_resident", "any", None, "any", 550),
    ("resident", "any", None, "any", 380),
]


@pytest.fixture
def entry() -> Product:
    """A pool entry priced by SEASON_2025 until 31 August 2026, SEASON_2026 from 1 September."""
    product = ProductFactory(name="Entrée piscine")
    for valid_from, valid_until, rows in [
        (date(2025, 9, 1), date(2026, 8, 31), SEASON_2025),
        (date(2026, 9, 1), None, SEASON_2026),
    ]:
        grid = TariffGridFactory(product=product, valid_from=valid_from, valid_until=valid_until)
        for residency, age, qf, reduced, cents in rows:
            TariffLineFactory(
                grid=grid,
                residency=residency,
                age_bracket=age,
                qf_bracket=qf,
                reduced_category=reduced,
                price_cents=cents,
            )
    quotient_brackets()
    return product


@dataclass(frozen=True)
class Case:
    """A person of the table: where they live(d), when they were born, their declared family
    quotient (euros) and reduced-rate statuses, and the day of the quote."""

    born: date = date(1985, 5, 17)
    resident: bool = True
    moved_out_on: date | None = None  # then living outside the territory
    quotient: int | None = None  # declared for the whole of 2026
    reduced: tuple = ()  # (category, valid_until)
    on: date = DAY
    expected: tuple = field(default=())  # (cents, explanation)


def person_for(case: Case) -> Person:
    person = PersonFactory(birth_date=case.born)
    inside, outside = CommuneFactory(), CommuneFactory(territory=None)
    household = person.household
    if case.moved_out_on is None:
        AddressFactory(household=household, commune=inside if case.resident else outside)
    else:
        AddressFactory(household=household, commune=inside, valid_until=case.moved_out_on)
        AddressFactory(household=household, commune=outside, valid_from=case.moved_out_on)
    if case.quotient is not None:
        FamilyQuotientFactory(
            household=household,
            amount=case.quotient,
            valid_from=date(2026, 1, 1),
            valid_until=date(2026, 12, 31),
        )
    for category, valid_until in case.reduced:
        ReducedRateStatusFactory(person=person, category=category, valid_until=valid_until)
    return person


CHILD = date(2015, 6, 21)
SENIOR = date(1955, 2, 1)
STATUS_END = date(2026, 8, 31)

CASES = {
    "resident child QF1: the most specific line": Case(
        born=CHILD, quotient=450, expected=(100, "Resident rate, child, QF 1, QF verified")
    ),
    "resident child QF3: no QF3 line, the child rate": Case(
        born=CHILD, quotient=1200, expected=(200, "Resident rate, child")
    ),
    "resident child without a declared QF": Case(
        born=CHILD, expected=(200, "Resident rate, child")
    ),
    "resident adult QF1": Case(quotient=500, expected=(150, "Resident rate, QF 1, QF verified")),
    "resident adult QF2 (501 €, just above QF1)": Case(
        quotient=501, expected=(350, "Resident rate")
    ),
    "resident adult without a declared QF": Case(expected=(350, "Resident rate")),
    "non-resident adult": Case(resident=False, expected=(500, "Non-resident rate")),
    "non-resident child QF1: QF lines are for residents": Case(
        born=CHILD, resident=False, quotient=300, expected=(500, "Non-resident rate")
    ),
    "resident senior": Case(born=SENIOR, expected=(250, "Resident rate, senior")),
    "the day before the 65th birthday: still adult": Case(
        born=date(1961, 3, 16), expected=(350, "Resident rate")
    ),
    "the 65th birthday: senior": Case(
        born=date(1961, 3, 15), expected=(250, "Resident rate, senior")
    ),
    "non-resident student": Case(
        resident=False,
        reduced=(("student", STATUS_END),),
        expected=(250, "Rate, student"),
    ),
    "non-resident job seeker": Case(
        resident=False,
        reduced=(("job_seeker", STATUS_END),),
        expected=(200, "Rate, job seeker"),
    ),
    "non-resident with a disability card": Case(
        resident=False,
        reduced=(("disability", STATUS_END),),
        expected=(150, "Rate, disability"),
    ),
    "student and disability: the cheapest reduced rate": Case(
        resident=False,
        reduced=(("student", STATUS_END), ("disability", STATUS_END)),
        expected=(150, "Rate, disability"),
    ),
    "resident child QF1 and student: a reduced rate never costs more": Case(
        born=CHILD,
        quotient=450,
        reduced=(("student", STATUS_END),),
        expected=(100, "Resident rate, child, QF 1, QF verified"),
    ),
    "an expired student status no longer counts": Case(
        resident=False,
        reduced=(("student", date(2026, 1, 31)),),
        expected=(500, "Non-resident rate"),
    ),
    "moved out of the territory: the day before the move, resident": Case(
        moved_out_on=date(2026, 3, 1),
        on=date(2026, 2, 28),
        expected=(350, "Resident rate"),
    ),
    "moved out of the territory: from the move, non-resident": Case(
        moved_out_on=date(2026, 3, 1),
        on=date(2026, 3, 1),
        expected=(500, "Non-resident rate"),
    ),
    "31 August 2026: the old grid": Case(on=date(2026, 8, 31), expected=(350, "Resident rate")),
    "1 September 2026: the new grid": Case(on=date(2026, 9, 1), expected=(380, "Resident rate")),
    "1 September 2026: the new grid has no student line": Case(
        resident=False,
        reduced=(("student", date(2026, 12, 31)),),
        on=date(2026, 9, 1),
        expected=(550, "Non-resident rate"),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_price_and_its_explanation(entry, case):
    person = person_for(case)
    with translation.override("en"):
        price = quote(product=entry, person=person, on=case.on)
    assert (price.price_cents, price.explanation) == case.expected
    line = TariffLine.objects.get(pk=price.line_id)
    assert line.price_cents == price.price_cents
    assert price.grid_id == line.grid_id
    assert TariffGrid.objects.get(pk=price.grid_id).product == entry


def test_the_explanation_is_french_by_default(entry):
    person = person_for(Case(born=CHILD, quotient=450))
    with translation.override("fr"):
        explanation = quote(product=entry, person=person, on=DAY).explanation
    assert explanation == "Tarif résident, enfant, QF 1, QF vérifié"


def test_a_price_quoted_for_a_past_day_is_not_rewritten_by_a_later_grid(entry):
    person = person_for(Case())
    before = quote(product=entry, person=person, on=date(2026, 8, 31))
    with time_machine.travel(datetime(2027, 5, 2, 10, 0, tzinfo=PARIS), tick=False):
        publish_tariff_grid(
            actor=None,
            product=entry,
            valid_from=date(2027, 6, 1),
            lines=[LineInput(price_cents=999)],
        )
    assert quote(product=entry, person=person, on=date(2026, 8, 31)) == before
    assert quote(product=entry, person=person, on=date(2027, 6, 1)).price_cents == 999


def test_the_qf_brackets_are_dated_too(entry):
    """From 1 January 2027 the territory moves QF1 up to 600 €: the same quotient changes
    bracket on that day, not before."""
    for number, max_amount in [(1, 600), (2, 900), (3, 1400), (4, None)]:
        QuotientBracket.objects.create(
            number=number, label=f"QF {number}", max_amount=max_amount, valid_from=date(2027, 1, 1)
        )
    grid = TariffGrid.objects.get(product=entry, valid_from=date(2026, 9, 1))
    TariffLineFactory(grid=grid, residency="resident", qf_bracket=1, price_cents=160)
    person = person_for(Case())
    FamilyQuotientFactory(
        household=person.household,
        amount=550,
        valid_from=date(2026, 9, 1),
        valid_until=date(2027, 6, 30),
    )
    assert quote(product=entry, person=person, on=date(2026, 12, 31)).price_cents == 380
    assert quote(product=entry, person=person, on=date(2027, 1, 1)).price_cents == 160


# --- The specificity rule, line by line -------------------------------------------------------

ADULT_RESIDENT = TariffFacts(residency="resident", age_bracket="adult", qf_bracket=2)


def line(price_cents, residency="any", age="any", qf=None, reduced="any") -> TariffLine:
    return TariffLine(
        residency=residency,
        age_bracket=age,
        qf_bracket=qf,
        reduced_category=reduced,
        price_cents=price_cents,
    )


def test_the_line_naming_more_criteria_wins_even_when_dearer():
    general, specific = line(300, residency="resident"), line(400, "resident", "adult", 2)
    assert choose_line([general, specific], ADULT_RESIDENT) is specific


def test_between_lines_naming_as_many_criteria_the_qf_bracket_beats_age_and_residency():
    by_residency, by_age, by_qf = (
        line(100, residency="resident"),
        line(200, age="adult"),
        line(300, qf=2),
    )
    assert choose_line([by_residency, by_age, by_qf], ADULT_RESIDENT) is by_qf
    assert choose_line([by_residency, by_age], ADULT_RESIDENT) is by_age


def test_a_line_for_people_without_a_reduced_rate_does_not_apply_to_a_student_alone():
    """`none` is the case without a reduced rate: a student may still pay it when cheaper."""
    facts = TariffFacts("resident", "adult", None, frozenset({"student"}))
    full, student = line(500, reduced="none"), line(300, reduced="student")
    assert choose_line([full, student], facts) is student
    assert choose_line([full, line(700, reduced="student")], facts) is full


def test_no_line_applies():
    assert choose_line([line(100, residency="non_resident")], ADULT_RESIDENT) is None


# --- Refusals: clear domain errors, never a 500 ----------------------------------------------


def test_no_grid_in_force_on_the_day_is_a_clear_error(entry):
    with translation.override("en"), pytest.raises(DomainError) as refused:
        quote(product=entry, person=person_for(Case()), on=date(2025, 8, 31))
    assert refused.value.code == "no_tariff"
    assert refused.value.message == "Entrée piscine has no price on 31/08/2025."


def test_no_line_for_the_person_is_a_clear_error():
    grid = TariffGridFactory(product=ProductFactory(name="Pass résidents"))
    TariffLineFactory(grid=grid, residency="resident")
    with translation.override("en"), pytest.raises(DomainError) as refused:
        quote(product=grid.product, person=person_for(Case(resident=False)), on=DAY)
    assert refused.value.code == "no_tariff"
    assert "Pass résidents has no price for this person" in refused.value.message


def test_a_household_without_an_address_pays_the_non_resident_rate(entry):
    assert quote(product=entry, person=PersonFactory(), on=DAY).price_cents == 500


# --- Publishing grids -------------------------------------------------------------------------


@pytest.fixture
def june_2026():
    with time_machine.travel(datetime(2026, 6, 15, 10, 0, tzinfo=PARIS), tick=False):
        yield date(2026, 6, 15)


def test_a_new_grid_closes_the_grid_in_force_the_day_before(june_2026):
    product = ProductFactory()
    old = publish_tariff_grid(
        actor=None,
        product=product,
        valid_from=date(2025, 9, 1),
        lines=[LineInput(price_cents=350)],
        historical=True,
    )
    admin = staff_user(StaffRole.Role.ADMIN)
    new = publish_tariff_grid(
        actor=admin,
        product=product,
        valid_from=date(2026, 9, 1),
        lines=[LineInput(price_cents=380), LineInput(price_cents=0, age_bracket="child")],
    )
    old.refresh_from_db()
    assert old.valid_until == date(2026, 8, 31)
    assert new.valid_until is None
    assert sorted(new.lines.values_list("price_cents", flat=True)) == [0, 380]
    entry = AuditEntry.objects.get(action="tariff.grid_published", actor=admin)
    assert entry.target == f"{product.name}@2026-09-01"  # the trail's words (identity)


def _grids_of(product) -> list[tuple[date, date | None]]:
    return list(product.grids.order_by("valid_from").values_list("valid_from", "valid_until"))


@pytest.fixture
def price_change_planned(june_2026):
    """A product priced since September 2025 and an administrator's change from 1 September
    2026, which closed the first grid on 31 August."""
    product = ProductFactory()
    publish_tariff_grid(
        actor=None,
        product=product,
        valid_from=date(2025, 9, 1),
        lines=[LineInput(price_cents=350)],
        historical=True,
    )
    admin = staff_user(StaffRole.Role.ADMIN)
    planned = publish_tariff_grid(
        actor=admin,
        product=product,
        valid_from=date(2026, 9, 1),
        lines=[LineInput(price_cents=380)],
    )
    return product, planned, admin


def test_withdrawing_a_planned_change_gives_the_grid_in_force_its_open_end_back(
    price_change_planned,
):
    product, planned, admin = price_change_planned
    withdraw_tariff_grid(actor=admin, grid=planned)
    assert _grids_of(product) == [(date(2025, 9, 1), None)]
    still = grid_in_force(product, date(2026, 9, 2))  # still sold after 31 August
    assert [line.price_cents for line in still.lines.all()] == [350]


def test_moving_a_planned_change_moves_the_end_of_the_grid_in_force(price_change_planned):
    product, planned, admin = price_change_planned
    publish_tariff_grid(
        actor=admin,
        product=product,
        valid_from=date(2026, 10, 1),
        lines=[LineInput(price_cents=390)],
        grid=planned,
    )
    assert _grids_of(product) == [(date(2025, 9, 1), date(2026, 9, 30)), (date(2026, 10, 1), None)]


def test_an_end_the_administrator_chose_stays_when_the_next_grid_is_withdrawn(june_2026):
    product = ProductFactory()
    TariffGridFactory(product=product, valid_from=date(2025, 9, 1), valid_until=date(2026, 8, 31))
    admin = staff_user(StaffRole.Role.ADMIN)
    planned = publish_tariff_grid(
        actor=admin,
        product=product,
        valid_from=date(2026, 9, 1),
        lines=[LineInput(price_cents=380)],
    )
    withdraw_tariff_grid(actor=admin, grid=planned)
    assert _grids_of(product) == [(date(2025, 9, 1), date(2026, 8, 31))]


def test_a_negative_price_is_refused(june_2026):
    product = ProductFactory()
    with pytest.raises(DomainError) as refused:
        publish_tariff_grid(
            actor=None,
            product=product,
            valid_from=date(2026, 9, 1),
            lines=[LineInput(price_cents=350), LineInput(price_cents=-1, age_bracket="child")],
        )
    assert refused.value.field == "price_cents"
    assert not TariffGrid.objects.filter(product=product).exists()


@pytest.mark.parametrize(
    ("valid_from", "valid_until"),
    [
        (date(2026, 10, 1), None),  # starts inside the planned grid
        (date(2026, 7, 1), date(2026, 9, 1)),  # ends on its first day
        (date(2026, 7, 1), None),  # would run on through it
    ],
    ids=["starts-inside", "ends-on-its-first-day", "open-ended-before-it"],
)
def test_overlapping_grids_are_refused(june_2026, valid_from, valid_until):
    product = ProductFactory()
    TariffGridFactory(product=product, valid_from=date(2026, 9, 1), valid_until=date(2027, 8, 31))
    with pytest.raises(DomainError) as refused:
        publish_tariff_grid(
            actor=None,
            product=product,
            valid_from=valid_from,
            valid_until=valid_until,
            lines=[LineInput(price_cents=100)],
        )
    assert refused.value.code == "overlap"
    assert TariffGrid.objects.filter(product=product).count() == 1


def test_a_grid_next_to_another_is_accepted(june_2026):
    product = ProductFactory()
    TariffGridFactory(product=product, valid_from=date(2026, 9, 1), valid_until=date(2027, 8, 31))
    publish_tariff_grid(
        actor=None,
        product=product,
        valid_from=date(2027, 9, 1),
        lines=[LineInput(price_cents=100)],
    )
    assert TariffGrid.objects.filter(product=product).count() == 2


def test_the_past_keeps_its_prices(june_2026):
    product = ProductFactory()
    TariffGridFactory(product=product, valid_from=date(2025, 9, 1))
    with pytest.raises(DomainError, match="past keeps its prices"):
        publish_tariff_grid(
            actor=None,
            product=product,
            valid_from=date(2026, 6, 14),
            lines=[LineInput(price_cents=100)],
        )
    with pytest.raises(DomainError, match="tomorrow at the earliest"):
        publish_tariff_grid(
            actor=None, product=product, valid_from=june_2026, lines=[LineInput(price_cents=100)]
        )
    assert TariffGrid.objects.get(product=product).valid_until is None


def test_two_lines_naming_the_same_criteria_are_refused(june_2026):
    with pytest.raises(DomainError, match="same criteria"):
        publish_tariff_grid(
            actor=None,
            product=ProductFactory(),
            valid_from=date(2026, 9, 1),
            lines=[LineInput(price_cents=100), LineInput(price_cents=200)],
        )


@pytest.mark.parametrize("role", [StaffRole.Role.CLERK, StaffRole.Role.FINANCE_OFFICER])
def test_only_an_administrator_publishes_prices(june_2026, role):
    with pytest.raises(Forbidden):
        publish_tariff_grid(
            actor=staff_user(role),
            product=ProductFactory(),
            valid_from=date(2026, 9, 1),
            lines=[LineInput(price_cents=100)],
        )
    assert not TariffGrid.objects.exists()


# --- The demo and the admin -------------------------------------------------------------------


@pytest.fixture
def territory():
    with time_machine.travel(datetime(2026, 11, 25, 9, 0, tzinfo=PARIS), tick=False):
        accounts = {account.email: account for account in identity_demo.load()}
        demo.load()
        yield accounts


def test_the_demo_shows_the_1_september_price_change(territory):
    camille = Person.objects.get(user__email=identity_demo.RESIDENT_EMAIL)
    lea = camille.household.members.get(first_name="Léa")
    membership = Product.objects.get(code="mediatheque-adhesion")
    pass_ = Product.objects.get(code="piscine-pass-annuel")
    assert quote(product=membership, person=lea, on=date(2026, 11, 25)).price_cents == 0
    before = quote(product=pass_, person=camille, on=date(2026, 8, 31))
    after = quote(product=pass_, person=camille, on=date(2026, 9, 1))
    assert before.grid_id != after.grid_id
    assert before.price_cents < after.price_cents


def test_loading_the_demo_twice_adds_no_product_nor_grid(territory):
    counts = (Product.objects.count(), TariffGrid.objects.count(), TariffLine.objects.count())
    demo.load()
    assert (
        Product.objects.count(),
        TariffGrid.objects.count(),
        TariffLine.objects.count(),
    ) == counts
    assert counts[:2] == (6, 12)  # with the two lesson products
    assert QuotientBracket.objects.count() == 4


def test_the_administrator_sees_products_and_cannot_edit_a_started_grid(client, territory):
    log_in(client, territory["admin@demo.sesame.fr"])
    for model in ["product", "tariffgrid", "quotientbracket"]:
        assert client.get(f"/admin/catalog/{model}/").status_code == 200
        assert client.get(f"/admin/catalog/{model}/add/").status_code == 200
    started = TariffGrid.objects.filter(valid_from=date(2026, 9, 1)).first()
    url = f"/admin/catalog/tariffgrid/{started.pk}/change/"
    with time_machine.travel(datetime(2026, 11, 25, 9, 0, tzinfo=PARIS), tick=False):
        assert client.get(url).status_code == 200  # shown read-only
        response = client.post(url, {"product": started.product_id, "valid_from": "2026-09-01"})
        assert response.status_code == 403
        assert client.post(f"/admin/catalog/tariffgrid/{started.pk}/delete/").status_code == 403


def test_the_admin_refuses_an_overlapping_grid_and_closes_the_one_in_force(client, territory):
    log_in(client, territory["admin@demo.sesame.fr"])
    product = Product.objects.get(code="piscine-entree")
    current = TariffGrid.objects.get(product=product, valid_from=date(2026, 9, 1))
    form = {
        "product": product.pk,
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-residency": "any",
        "lines-0-age_bracket": "any",
        "lines-0-reduced_category": "any",
        "lines-0-price_cents": "420",
    }
    with time_machine.travel(datetime(2026, 11, 25, 9, 0, tzinfo=PARIS), tick=False):
        refused = client.post(
            "/admin/catalog/tariffgrid/add/", {**form, "valid_from": "2026-11-20"}
        )
        assert refused.status_code == 200
        assert "valid_from" in refused.context["adminform"].form.errors  # the past keeps its prices
        response = client.post(
            "/admin/catalog/tariffgrid/add/", {**form, "valid_from": "2027-01-01"}
        )
    assert response.status_code == 302
    current.refresh_from_db()
    assert current.valid_until == date(2026, 12, 31)
    camille = Person.objects.get(user__email=identity_demo.RESIDENT_EMAIL)
    assert quote(product=product, person=camille, on=date(2027, 1, 1)).price_cents == 420
