"""A child with a care plan (PAI) may bring a packed meal from home: the parent says so with the
diets, the town corrects it, both audited. Each lunch booked carries it as it stands when the
day's list becomes final (a change after a day's deadline leaves that day as it was); the
kitchen's list marks those children and counts the meals to cook apart from the packed meals;
the bill prices those days at the service's packed-meal price, says so on its line, and refuses
a service that has packed-meal days but no such price."""

import io
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from documents_vault.actions.uploads import add_document
from documents_vault.models import DocumentKind
from identity.errors import DomainError
from identity.models import AuditEntry, StaffRole
from identity.vocabulary import changes_of
from payments.pdf import document_pdf
from services.canteen import actions, billing
from services.canteen.actions import DietChoice
from services.canteen.kitchen import kitchen_list, kitchen_pdf
from services.canteen.models import Booking, Diet, Service
from tests.documents_vault.factories import pdf_bytes
from tests.factories import TariffLineFactory, collection_office, site_administrator, staff_user
from tests.services.canteen.factories import (
    canteen_site,
    enrolled_child,
    lunch,
    served_without_booking,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

PARIS = ZoneInfo("Europe/Paris")
MONDAY = datetime(2026, 11, 30, 10, tzinfo=PARIS)
THURSDAY, FRIDAY, NEXT_MONDAY = date(2026, 12, 3), date(2026, 12, 4), date(2026, 12, 7)
# Thursday's list is final at 15:00 on Wednesday; Friday's and Monday's are still open then.
WEDNESDAY_EVENING = datetime(2026, 12, 2, 16, tzinfo=PARIS)


def priced(code: str, name: str, cents: int):
    collection_office("cantine")
    line = TariffLineFactory(
        grid__product__code=code,
        grid__product__name=name,
        grid__product__regie_code="cantine",
        price_cents=cents,
    )
    return line.grid.product


def pai(user, child, *, packed_meal: bool) -> None:
    """The child's PAI declared by their parent (its document added to the safe the first
    time)."""
    care_plan = None
    if not Diet.objects.filter(child=child, kind="allergy_pai").exists():
        plan = add_document(
            actor=user,
            person=child,
            kind=DocumentKind.CARE_PLAN,
            file_name="pai.pdf",
            content=pdf_bytes(),
        )
        care_plan = {"document_id": plan.public_id}
    actions.declare_diets(
        actor=user,
        child=child,
        choices=[DietChoice("allergy_pai", "arachide", packed_meal=packed_meal)],
        care_plan=care_plan,
    )


@pytest.fixture
def family():
    with time_machine.travel(MONDAY, tick=False):
        site = canteen_site()
        service = lunch(
            site,
            product=priced("repas", "Repas", 350),
            penalty_product=priced("repas-majore", "Repas majoré", 700),
            packed_meal_product=priced("panier-repas", "Accueil panier-repas", 120),
        )
        guardian, child = enrolled_child(site)
        yield guardian.user, child, service


def packed_days(child) -> dict[date, bool]:
    return dict(Booking.objects.filter(child=child).values_list("day", "packed_meal"))


def test_the_parent_says_the_pai_child_brings_a_packed_meal_audited(family):
    user, child, service = family
    pai(user, child, packed_meal=False)
    pai(user, child, packed_meal=True)
    assert Diet.objects.get(child=child, kind="allergy_pai").packed_meal is True
    entry = AuditEntry.objects.filter(action="canteen.diets_declared").latest("pk")
    assert entry.changes["packed_meal"] == [False, True]
    # The journal says it in words.
    [change] = [c for c in changes_of(entry) if c.field == "Brings a packed meal from home"]
    assert (change.before, change.after) == ("no", "yes")


def test_only_a_pai_diet_brings_a_packed_meal(family):
    user, child, _service = family
    with pytest.raises(DomainError) as refused:
        actions.declare_diets(
            actor=user, child=child, choices=[DietChoice("no_pork", packed_meal=True)]
        )
    assert refused.value.field == "packed_meal"
    assert not Diet.objects.filter(child=child).exists()
    clerk = staff_user(StaffRole.Role.ADMIN)
    with pytest.raises(DomainError) as refused:
        actions.correct_diet(actor=clerk, child=child, kind="vegetarian", packed_meal=True)
    assert refused.value.field == "packed_meal"


def test_the_database_refuses_a_packed_meal_on_another_diet(family):
    from django.db import IntegrityError, transaction

    _user, child, _service = family
    with pytest.raises(IntegrityError), transaction.atomic():
        Diet.objects.create(child=child, kind="no_meat", packed_meal=True)


def test_the_town_corrects_the_packed_meal_and_keeps_it_when_unsaid(family):
    user, child, _service = family
    pai(user, child, packed_meal=False)
    clerk = staff_user(StaffRole.Role.ADMIN)
    actions.correct_diet(
        actor=clerk, child=child, kind="allergy_pai", details="arachide", packed_meal=True
    )
    entry = AuditEntry.objects.get(action="canteen.diets_corrected")
    assert entry.changes["packed_meal"] == [False, True]
    # Another diet added, the PAI's details changed: the packed meal stays as recorded.
    actions.correct_diet(actor=clerk, child=child, kind="no_pork")
    actions.correct_diet(actor=clerk, child=child, kind="allergy_pai", details="arachide, noix")
    assert Diet.objects.get(child=child, kind="allergy_pai").packed_meal is True


def test_the_diets_page_records_the_packed_meal_and_refuses_it_without_a_pai(family, client):
    user, child, _service = family
    client.force_login(user)
    url = reverse("canteen:diets", args=[child.public_id])
    refused = client.post(url, {"kinds": ["no_pork"], "packed_meal": "on"})
    assert refused.status_code == 200
    assert "Only a child with a care plan (PAI) brings a packed meal." in refused.content.decode()
    assert not Diet.objects.filter(child=child).exists()
    response = client.post(
        url,
        {
            "kinds": ["allergy_pai"],
            "details_allergy_pai": "arachide",
            "packed_meal": "on",
            "pai-document": "new",
            "pai-file": SimpleUploadedFile("pai.pdf", pdf_bytes(), "application/pdf"),
        },
    )
    assert response.status_code == 302, response.content.decode()
    assert Diet.objects.get(child=child).packed_meal is True
    page = client.get(url).content.decode()
    recorded = page[page.index('class="current-diets"') :]
    assert 'data-diet="allergy_pai"' in recorded  # the diets recorded now are listed
    assert "data-packed-meal" in recorded


def test_the_town_sets_it_in_the_admin_through_the_action(family, client):
    user, child, _service = family
    pai(user, child, packed_meal=False)
    diet = Diet.objects.get(child=child)
    administrator = site_administrator()
    client.force_login(administrator)
    response = client.post(
        f"/admin/canteen/diet/{diet.pk}/change/",
        {
            "child": child.pk,
            "kind": "allergy_pai",
            "details": "arachide",
            "care_plan": diet.care_plan_id,
            "packed_meal": "on",
        },
    )
    assert response.status_code == 302
    assert Diet.objects.get(child=child).packed_meal is True
    assert AuditEntry.objects.get(action="canteen.diets_corrected").changes["packed_meal"] == [
        False,
        True,
    ]


def test_lunches_booked_carry_the_packed_meal_care_does_not(family):
    user, child, service = family
    pai(user, child, packed_meal=True)
    care = Service.objects.create(
        site=service.site,
        kind=Service.Kind.EVENING_CARE,
        capacity=30,
        weekdays="0,1,3,4",
        rule=Service.Rule.DAYS_BEFORE,
        rule_time=time(12),
    )
    actions.book_days(actor=user, child=child, service=service, days=[THURSDAY], key="l")
    actions.book_days(actor=user, child=child, service=care, days=[THURSDAY], key="c")
    assert Booking.objects.get(service=service).packed_meal is True
    assert Booking.objects.get(service=care).packed_meal is False  # no meal to replace


def test_a_change_after_a_deadline_leaves_the_final_days_as_they_were(family):
    user, child, service = family
    days = [THURSDAY, FRIDAY, NEXT_MONDAY]
    actions.book_days(actor=user, child=child, service=service, days=days, key="m")
    assert set(packed_days(child).values()) == {False}
    with time_machine.travel(WEDNESDAY_EVENING, tick=False):
        pai(user, child, packed_meal=True)
    assert packed_days(child) == {THURSDAY: False, FRIDAY: True, NEXT_MONDAY: True}
    entry = AuditEntry.objects.filter(action="canteen.diets_declared").latest("pk")
    assert entry.target == "lunches_changed:2"  # Friday and Monday
    # Cancelled then booked again: the day follows the diet as it stands.
    with time_machine.travel(WEDNESDAY_EVENING, tick=False):
        actions.cancel_days(actor=user, child=child, service=service, days=[NEXT_MONDAY])
        actions.declare_diets(
            actor=user, child=child, choices=[DietChoice("allergy_pai", "arachide")]
        )
        actions.book_days(actor=user, child=child, service=service, days=[NEXT_MONDAY], key="a")
    assert packed_days(child) == {THURSDAY: False, FRIDAY: False, NEXT_MONDAY: False}


def test_the_kitchen_counts_meals_to_cook_and_packed_meals(family, client):
    user, child, service = family
    pai(user, child, packed_meal=True)
    other_guardian, other = enrolled_child(service.site)
    for parent, kid in ((user, child), (other_guardian.user, other)):
        actions.book_days(actor=parent, child=kid, service=service, days=[THURSDAY], key="k")
    agent = staff_user(StaffRole.Role.CANTEEN_AGENT, facility=service.site.school)
    with time_machine.travel(WEDNESDAY_EVENING, tick=False):
        sheet = kitchen_list(actor=agent, service=service, day=THURSDAY)
        ((_name, children),) = sheet.classes
        assert (sheet.count, sheet.meals_to_cook, sheet.packed_meals) == (2, 1, 1)
        assert {c.name: c.packed_meal for c in children} == {
            child.full_name: True,
            other.full_name: False,
        }
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(kitchen_pdf(sheet))).pages)
        assert "Meals to cook: 1" in text
        assert "Packed meals (PAI): 1" in text
        assert "PACKED MEAL (PAI)" in text
        client.force_login(agent)
        url = reverse("canteen:kitchen", args=[service.public_id, THURSDAY.isoformat()])
        page = client.get(url).content.decode()
    assert '<dd data-count="to_cook">1</dd>' in page
    assert '<dd data-count="packed_meals">1</dd>' in page
    assert page.count("data-packed-meal") == 1


def december_bill(user, child, service):
    """Thursday and Friday booked before the packed meal, Monday and Tuesday after Thursday's
    deadline (so Thursday stays a cooked lunch), and Thursday 10 served without booking."""
    actions.book_days(actor=user, child=child, service=service, days=[THURSDAY, FRIDAY], key="1")
    with time_machine.travel(WEDNESDAY_EVENING, tick=False):
        pai(user, child, packed_meal=True)
        actions.book_days(
            actor=user, child=child, service=service, days=[NEXT_MONDAY, date(2026, 12, 8)], key="2"
        )
    served_without_booking(child, service, date(2026, 12, 10))


def test_the_bill_prices_packed_meal_days_at_their_price_and_says_so(family):
    user, child, service = family
    december_bill(user, child, service)
    officer = staff_user(StaffRole.Role.FINANCE_OFFICER)
    with time_machine.travel(datetime(2027, 1, 4, 9, tzinfo=PARIS), tick=False):
        order = billing.bill_month(actor=officer, household=child.household, year=2026, month=12)
    lines = {line.label: line for line in order.lines.all()}
    assert {line.beneficiary for line in order.lines.all()} == {child}
    assert set(lines) == {
        "Repas",
        "Accueil panier-repas (packed meal from home, PAI)",
        "Repas majoré (without booking)",
    }
    packed = lines["Accueil panier-repas (packed meal from home, PAI)"]
    assert (packed.quantity, packed.unit_price_cents) == (3, 120)  # 4, 7 and 8 December
    assert packed.payload["days"] == ["2026-12-04", "2026-12-07", "2026-12-08"]
    assert packed.explanation  # the tariff engine's why
    assert lines["Repas"].payload["days"] == ["2026-12-03"]
    assert lines["Repas majoré (without booking)"].quantity == 1
    assert order.total_cents == 350 + 3 * 120 + 700
    invoice = order.documents.get(kind="invoice")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(document_pdf(invoice))).pages)
    assert "panier-repas" in text
    assert packed.explanation in text


def test_packed_meal_days_without_their_price_refuse_the_bill(family):
    user, child, service = family
    december_bill(user, child, service)
    Service.objects.filter(pk=service.pk).update(packed_meal_product=None)
    with time_machine.travel(datetime(2027, 1, 4, 9, tzinfo=PARIS), tick=False):
        with pytest.raises(DomainError) as refused:
            billing.month_lines(child.household, 2026, 12)
        assert billing.bill_all(year=2026, month=12) == (0, 1)
    assert refused.value.code == "no_tariff"
    assert str(service) in refused.value.message


def test_the_sql_of_a_packed_meal_booking_does_not_grow_with_its_days(family):
    """One statement more than a booking of the care services (the diet, read at lunch only),
    the same for a week and a month."""
    user, child, service = family
    pai(user, child, packed_meal=True)
    actions.book_days(actor=user, child=child, service=service, days=[THURSDAY], key="1")
    counts = []
    for key, start, until in [
        ("week", FRIDAY, date(2026, 12, 8)),
        ("month", date(2026, 12, 10), date(2027, 1, 29)),
    ]:
        with CaptureQueriesContext(connection) as queries:
            actions.book_pattern(
                actor=user,
                child=child,
                service=service,
                weekdays=[0, 1, 3, 4],
                start=start,
                until=until,
                key=key,
            )
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 21
    assert set(packed_days(child).values()) == {True}


@pytest.fixture
def prepaid(family):
    from tests.payments.factories import topped_up, wallet_regie

    user, child, service = family
    service.prepaid = True
    service.save()
    wallet_regie()
    guardian = user.person
    topped_up(guardian, 2000)
    return user, child, service, guardian


def test_a_prepaid_packed_meal_is_paid_at_its_own_price(prepaid):
    from payments import queries as payment_queries

    user, child, service, guardian = prepaid
    pai(user, child, packed_meal=True)
    actions.book_days(actor=user, child=child, service=service, days=[THURSDAY, FRIDAY], key="p")
    assert payment_queries.wallet_balance(guardian.pk) == 2000 - 2 * 120


def test_a_diet_change_refunds_the_prepaid_open_days_which_the_month_then_bills(prepaid):
    from payments import queries as payment_queries
    from services.canteen.models import PrepaidMeal

    user, child, service, guardian = prepaid
    actions.book_days(
        actor=user, child=child, service=service, days=[THURSDAY, FRIDAY, NEXT_MONDAY], key="p"
    )
    assert payment_queries.wallet_balance(guardian.pk) == 2000 - 3 * 350
    with time_machine.travel(WEDNESDAY_EVENING, tick=False):
        pai(user, child, packed_meal=True)
    # Thursday was final: still prepaid at the lunch price; Friday and Monday back in the wallet.
    assert payment_queries.wallet_balance(guardian.pk) == 2000 - 350
    kept = PrepaidMeal.objects.get(refunded_at__isnull=True)
    assert kept.booking.day == THURSDAY
    officer = staff_user(StaffRole.Role.FINANCE_OFFICER)
    with time_machine.travel(datetime(2027, 1, 4, 9, tzinfo=PARIS), tick=False):
        order = billing.bill_month(actor=officer, household=child.household, year=2026, month=12)
    (line,) = order.lines.all()
    assert (line.quantity, line.unit_price_cents) == (2, 120)  # Friday and Monday, packed
    assert line.payload["days"] == ["2026-12-04", "2026-12-07"]
