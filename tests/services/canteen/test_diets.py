"""Diets are recorded once per child: a parent declares them (an allergy with a care plan (PAI)
needs the PAI document, picked from the household's safe or added to it), the town corrects
them; both are audited. Every kitchen list shows them, allergies highlighted, with the counts
per diet, on the page and on the PDF; the list opens at the booking deadline, not before."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from documents_vault.actions.uploads import add_document
from documents_vault.models import Document, DocumentKind, Share
from identity.errors import DomainError, Forbidden
from identity.models import AuditEntry, StaffRole
from services.canteen import actions
from services.canteen.actions import DietChoice
from services.canteen.kitchen import kitchen_list, kitchen_pdf
from services.canteen.models import Diet
from tests.documents_vault.factories import pdf_bytes
from tests.factories import site_administrator, staff_user
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)
THURSDAY = date(2026, 12, 3)


@pytest.fixture
def family():
    site = canteen_site()
    service = lunch(site)
    guardian, child = enrolled_child(site)
    with time_machine.travel(NOW, tick=False):
        yield guardian.user, child, service


def care_plan_of(user, child) -> Document:
    return add_document(
        actor=user,
        person=child,
        kind=DocumentKind.CARE_PLAN,
        file_name="pai.pdf",
        content=pdf_bytes(),
    )


def test_a_parent_declares_diets_with_the_pai_from_the_safe(family):
    user, child, service = family
    plan = care_plan_of(user, child)
    actions.declare_diets(
        actor=user,
        child=child,
        choices=[DietChoice("no_pork"), DietChoice("allergy_pai", "arachide")],
        care_plan={"document_id": plan.public_id},
    )
    diets = {d.kind: d for d in Diet.objects.filter(child=child)}
    assert set(diets) == {"no_pork", "allergy_pai"}
    assert diets["allergy_pai"].care_plan == plan
    assert diets["allergy_pai"].details == "arachide"
    # The PAI is shared with the child's canteen file (the school's staff read it there).
    assert Share.objects.filter(document=plan, target_kind="canteen_diet").exists()
    entry = AuditEntry.objects.get(action="canteen.diets_declared")
    assert entry.person == child
    assert entry.changes["diets"][1] == ["allergy_pai:arachide", "no_pork:"]
    # Declared again: they replace the previous ones; the PAI already recorded stays.
    actions.declare_diets(
        actor=user, child=child, choices=[DietChoice("allergy_pai", "arachide, noix")]
    )
    assert list(Diet.objects.filter(child=child).values_list("kind", "care_plan")) == [
        ("allergy_pai", plan.pk)
    ]


def test_an_allergy_without_its_pai_is_refused_and_nothing_written(family):
    user, child, service = family
    with pytest.raises(DomainError) as refusal:
        actions.declare_diets(actor=user, child=child, choices=[DietChoice("allergy_pai", "lait")])
    assert refusal.value.field == "document"
    with pytest.raises(DomainError) as refusal:
        actions.declare_diets(actor=user, child=child, choices=[DietChoice("allergy_pai")])
    assert refusal.value.field == "details_allergy_pai"
    assert not Diet.objects.exists()


def test_someone_elses_document_is_not_a_pai(family):
    user, child, service = family
    other_user, other_child = enrolled_child(service.site)
    theirs = care_plan_of(other_user.user, other_child)
    with pytest.raises(DomainError) as refusal:
        actions.declare_diets(
            actor=user,
            child=child,
            choices=[DietChoice("allergy_pai", "lait")],
            care_plan={"document_id": theirs.public_id},
        )
    assert refusal.value.field == "document"
    assert not Diet.objects.exists()


def test_the_diets_page_adds_the_pai_to_the_safe(family, client):
    user, child, service = family
    client.force_login(user)
    url = reverse("canteen:diets", args=[child.public_id])
    response = client.post(
        url,
        {
            "kinds": ["vegetarian", "allergy_pai"],
            "details_allergy_pai": "arachide",
            "pai-document": "new",
            "pai-file": SimpleUploadedFile("pai.pdf", pdf_bytes(), "application/pdf"),
        },
    )
    assert response.status_code == 302
    plan = Document.objects.get(person=child, kind=DocumentKind.CARE_PLAN)
    assert Diet.objects.get(child=child, kind="allergy_pai").care_plan == plan
    page = client.get(url).content.decode()
    assert "Végétarien" in page
    assert "Allergie avec PAI" in page


def test_the_diets_page_names_the_missing_details(family, client):
    user, child, service = family
    client.force_login(user)
    response = client.post(
        reverse("canteen:diets", args=[child.public_id]),
        {"kinds": ["texture"], "details_texture": ""},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Précisez la texture" in html[html.index('for="id_details_texture"') - 400 :]
    assert not Diet.objects.exists()


def test_the_town_corrects_a_diet_and_a_parent_cannot(family):
    user, child, service = family
    actions.declare_diets(actor=user, child=child, choices=[DietChoice("no_pork")])
    clerk = staff_user(StaffRole.Role.CLERK)
    actions.correct_diet(actor=clerk, child=child, kind="no_meat")
    actions.correct_diet(actor=clerk, child=child, kind="no_pork", remove=True)
    assert list(Diet.objects.filter(child=child).values_list("kind", "by_town")) == [
        ("no_meat", True)
    ]
    assert AuditEntry.objects.filter(action="canteen.diets_corrected", person=child).count() == 2
    with pytest.raises(Forbidden):
        actions.correct_diet(actor=user, child=child, kind="vegetarian")


@pytest.fixture
def kitchen_day(family):
    user, child, service = family
    actions.book_days(actor=user, child=child, service=service, days=[THURSDAY], key="k")
    plan = care_plan_of(user, child)
    actions.declare_diets(
        actor=user,
        child=child,
        choices=[DietChoice("allergy_pai", "arachide"), DietChoice("no_pork")],
        care_plan={"document_id": plan.public_id},
    )
    others = []
    for n, diet in enumerate(["no_pork", None]):
        guardian, other = enrolled_child(service.site)
        actions.book_days(
            actor=guardian.user, child=other, service=service, days=[THURSDAY], key=f"o{n}"
        )
        if diet:
            actions.declare_diets(actor=guardian.user, child=other, choices=[DietChoice(diet)])
        others.append(other)
    agent = staff_user(StaffRole.Role.CANTEEN_AGENT, facility=service.site.school)
    return service, child, others, agent


def test_the_kitchen_list_counts_each_diet(kitchen_day):
    service, child, others, agent = kitchen_day
    with time_machine.travel(datetime(2026, 12, 2, 15, 0, 1, tzinfo=PARIS), tick=False):
        sheet = kitchen_list(actor=agent, service=service, day=THURSDAY)
    assert sheet.count == 3
    assert dict(sheet.diet_counts) == {"Sans porc": 2, "Allergie avec PAI": 1}
    assert sheet.without_diet == 1
    (entry,) = [c for _n, children in sheet.classes for c in children if c.name == child.full_name]
    assert entry.has_allergy
    assert str(entry.diets[0]) == "Allergie avec PAI (arachide)"


def test_the_kitchen_pdf_prints_the_counts_and_the_allergies(kitchen_day):
    service, child, others, agent = kitchen_day
    with time_machine.travel(datetime(2026, 12, 2, 15, 0, 1, tzinfo=PARIS), tick=False):
        sheet = kitchen_list(actor=agent, service=service, day=THURSDAY)
    pages = PdfReader(io.BytesIO(kitchen_pdf(sheet))).pages
    text = "".join(p.extract_text() for p in pages).replace("\u00a0", " ")
    assert "Sans porc : 2" in text
    assert "Allergie avec PAI : 1" in text
    assert "Sans régime : 1" in text
    assert f"!! {child.full_name} — ALLERGIE AVEC PAI (ARACHIDE) ; Sans porc" in text


def test_the_kitchen_page_opens_at_the_deadline(kitchen_day, client):
    service, child, others, agent = kitchen_day
    url = reverse("canteen:kitchen", args=[service.public_id, THURSDAY.isoformat()])
    with time_machine.travel(datetime(2026, 12, 2, 14, 59, tzinfo=PARIS), tick=False):
        client.force_login(agent)
        early = client.get(url).content.decode()
    assert "pas encore définitive" in early
    assert "mercredi 2 décembre 2026 à 15\u00a0h\u00a000" in early
    assert child.full_name not in early
    with time_machine.travel(datetime(2026, 12, 2, 15, 0, 1, tzinfo=PARIS), tick=False):
        client.force_login(agent)
        html = client.get(url).content.decode()
        pdf = client.get(
            reverse("canteen:kitchen_pdf", args=[service.public_id, THURSDAY.isoformat()])
        )
    assert child.full_name in html
    assert 'data-count="total">3<' in html
    assert 'data-count="Sans porc">2<' in html
    assert 'class="kitchen-allergy"' in html
    assert pdf["Content-Type"] == "application/pdf"
    assert PdfReader(io.BytesIO(pdf.content)).pages


def test_the_kitchen_days_page_lists_the_schools_services(kitchen_day, client):
    service, child, others, agent = kitchen_day
    with time_machine.travel(datetime(2026, 12, 2, 15, 0, 1, tzinfo=PARIS), tick=False):
        client.force_login(agent)
        html = client.get(reverse("canteen:kitchen_days") + "?jour=2026-12-03").content.decode()
    assert reverse("canteen:kitchen", args=[service.public_id, "2026-12-03"]) in html


def test_staff_of_another_school_and_residents_are_refused(kitchen_day, client):
    service, child, others, agent = kitchen_day
    url = reverse("canteen:kitchen", args=[service.public_id, THURSDAY.isoformat()])
    elsewhere = staff_user(StaffRole.Role.CANTEEN_AGENT, facility=canteen_site("Autre").school)
    for user in (elsewhere, staff_user(StaffRole.Role.CLERK)):
        with time_machine.travel(datetime(2026, 12, 2, 16, tzinfo=PARIS), tick=False):
            client.force_login(user)
            assert client.get(url).status_code == 403


def test_the_town_corrects_diets_in_the_admin_through_the_action(family, client):
    user, child, service = family
    administrator = site_administrator()
    client.force_login(administrator)
    response = client.post(
        "/admin/canteen/diet/add/", {"child": child.pk, "kind": "no_meat", "details": ""}
    )
    assert response.status_code == 302
    assert Diet.objects.get(child=child).by_town
    assert AuditEntry.objects.filter(action="canteen.diets_corrected", person=child).exists()
    # A PAI without its document is refused on the form, nothing written.
    response = client.post(
        "/admin/canteen/diet/add/", {"child": child.pk, "kind": "allergy_pai", "details": "lait"}
    )
    assert response.status_code == 200
    assert list(Diet.objects.filter(child=child).values_list("kind", flat=True)) == ["no_meat"]
