"""Administrators read the audit trail: who, what, whose data, when, through which channel, in
words and names; filtered, paginated, exported as a spreadsheet. Reading and exporting are
entries of the trail themselves. The resident's *Who looked at my file* speaks the same words."""

import csv
import io
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from card.actions.taps import SECURITY_REFUSALS
from identity import vocabulary
from identity.actions.audit import record_audit_entry
from identity.models import AuditEntry, StaffRole
from tests.factories import ResidentFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
TRAIL = reverse("identity:audit_trail")
EXPORT = reverse("identity:audit_trail_export")


@pytest.fixture
def admin(client):
    user = staff_user(StaffRole.Role.ADMIN)
    user.first_name, user.last_name = "Claire", "Fabre"
    user.save()
    client.force_login(user)
    return user


@pytest.fixture
def camille():
    return ResidentFactory(first_name="Camille", last_name="Martin")


@pytest.fixture
def clerk():
    user = staff_user(StaffRole.Role.CLERK)
    user.first_name, user.last_name = "Paul", "Roux"
    user.save()
    return user


def at(day: date, hour: int = 10):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=PARIS))


def entries_on_page(response) -> list[str]:
    return [row.what for row in response.context["rows"]]


def test_the_trail_shows_words_and_names_never_codes(client, admin, camille, clerk):
    finance = staff_user(StaffRole.Role.FINANCE_OFFICER)
    finance.first_name, finance.last_name = "Sophie", "Lacombe"
    finance.save()
    record_audit_entry(
        actor=clerk,
        action="staff.file_viewed",
        household=camille.household,
        target="household",
        reason="phone",
        channel=AuditEntry.Channel.PHONE,
    )
    record_audit_entry(
        actor=finance, action="payments.open_payment", person=camille, target="payment:abc"
    )

    response = client.get(TRAIL)

    assert response.status_code == 200
    # The entries, not the filter form (whose options carry the codes as their values).
    page = response.content.decode().split('<div role="list" class="audit-trail"')[1]
    for words in [
        "Dossier ouvert",
        "Paul Roux",
        "Agent d’accueil de la mairie",
        "Foyer de Camille Martin",
        "Demande par téléphone",
        "Téléphone",
        "Paiement consulté",
        "Sophie Lacombe",
        "Camille Martin",
    ]:
        assert words in page, words
    assert "payments.open_payment" not in page
    assert "staff.file_viewed" not in page
    assert not re.search(r"user#\d", page)


def test_reading_the_trail_is_itself_recorded_with_the_filters(client, admin):
    client.get(TRAIL, {"channel": "phone", "date_from": "2026-01-01"})
    entry = AuditEntry.objects.get(action="audit.trail_viewed")
    assert entry.actor == admin
    assert entry.actor_role == StaffRole.Role.ADMIN
    assert entry.target == "Téléphone ; du 01/01/2026"


def test_filters_by_actor_resident_action_channel_and_dates(client, admin, camille, clerk):
    someone_else = ResidentFactory(first_name="Jeanne", last_name="Delmas")
    with at(date(2026, 3, 2)):
        record_audit_entry(actor=clerk, action="staff.file_viewed", household=camille.household)
    with at(date(2026, 3, 10)):
        record_audit_entry(
            actor=clerk,
            action="person.corrected",
            person=someone_else,
            channel=AuditEntry.Channel.COUNTER,
        )
    with at(date(2026, 3, 20)):
        record_audit_entry(actor=camille.user, action="household.address_changed", person=camille)

    def shown(**filters) -> list[str]:
        response = client.get(TRAIL, filters)
        return [r.what for r in response.context["rows"] if r.entry.action != "audit.trail_viewed"]

    assert shown(actor="paul roux") == ["Identité corrigée", "Dossier ouvert"]
    assert shown(actor="Camille") == ["Déménagement déclaré"]
    assert shown(resident="martin") == ["Déménagement déclaré", "Dossier ouvert"]
    assert shown(resident="Delmas") == ["Identité corrigée"]
    assert shown(action="staff.file_viewed") == ["Dossier ouvert"]
    assert shown(channel="counter") == ["Identité corrigée"]
    assert shown(date_from="2026-03-10", date_to="2026-03-10") == ["Identité corrigée"]
    assert shown(date_from="2026-03-03", date_to="2026-03-31") == [
        "Déménagement déclaré",
        "Identité corrigée",
    ]


def test_a_period_ending_before_it_starts_is_refused_naming_the_field(client, admin):
    response = client.get(TRAIL, {"date_from": "2026-03-10", "date_to": "2026-03-01"})
    assert response.status_code == 200
    assert "date_to" in response.context["form"].errors
    assert response.context["rows"] is None
    assert not AuditEntry.objects.filter(action="audit.trail_viewed").exists()
    assert (
        client.get(EXPORT, {"date_from": "2026-03-10", "date_to": "2026-03-01"}).status_code == 400
    )
    assert not AuditEntry.objects.filter(action="audit.trail_exported").exists()


def test_the_trail_is_paginated_newest_first(client, admin, camille):
    for _ in range(60):
        record_audit_entry(actor=camille.user, action="household.member_added", person=camille)
    first = client.get(TRAIL, {"action": "household.member_added"})
    assert len(first.context["rows"]) == 50
    assert first.context["page"].paginator.count == 60
    second = client.get(TRAIL, {"action": "household.member_added", "page": 2})
    assert len(second.context["rows"]) == 10
    assert "action=household.member_added&amp;page=1" in second.content.decode()


def test_the_export_is_the_filtered_view_formula_safe_and_recorded(client, admin, clerk):
    hostile = ResidentFactory(first_name='=HYPERLINK("http://x")', last_name="Martin")
    record_audit_entry(actor=clerk, action="staff.file_viewed", person=hostile, reason="counter")
    record_audit_entry(actor=clerk, action="staff.residents_searched", target="3 results")

    response = client.get(EXPORT, {"action": "staff.file_viewed"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == ["Date", "Qui", "Rôle", "Action", "Données de", "Motif", "Canal", "Détail"]
    assert len(rows) == 2
    assert rows[1][1:] == [
        "Paul Roux",
        "Agent d’accueil de la mairie",
        "Dossier ouvert",
        '\'=HYPERLINK("http://x") Martin',  # shown as text, never run as a formula
        "Demande au guichet",
        "Site internet",
        "",
    ]
    export = AuditEntry.objects.get(action="audit.trail_exported")
    assert export.actor == admin
    assert export.target == "Dossier ouvert (1)"


@pytest.mark.parametrize("role", ["clerk", "pool_agent", "finance_officer", "resident"])
def test_only_administrators_read_or_export_the_trail(client, role):
    user = ResidentFactory().user if role == "resident" else staff_user(role)
    client.force_login(user)
    assert client.get(TRAIL).status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert not AuditEntry.objects.filter(action__startswith="audit.").exists()


def test_the_resident_reads_the_same_words_in_who_looked_at_my_file(client, camille):
    finance = staff_user(StaffRole.Role.FINANCE_OFFICER)
    record_audit_entry(actor=finance, action="payments.open_payment", person=camille)
    client.force_login(camille.user)
    page = client.get(reverse("identity:file_accesses")).content.decode()
    assert "Paiement consulté" in page
    assert "payments.open_payment" not in page
    assert finance.first_name in page


def test_an_application_is_named_as_one():
    app = UserFactory(first_name="SIGB médiathèque", is_application=True)
    assert vocabulary.display_name(app) == "Application « SIGB médiathèque »"
    assert vocabulary.display_name(None) == "Système"


# --- Every action code written in Sésame has its words -------------------------------------

ROOT = Path(__file__).resolve().parents[2]
APPS = ["identity", "card", "payments", "services", "kiosk", "portal", "documents_vault"]


def action_codes_in_the_code_base() -> set[str]:
    codes: set[str] = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text()
            codes |= set(re.findall(r'\baction="([a-z_]+\.[a-z_.]+)"', text))
            if app == "card" and "actions" in path.parts:
                # card.actions.guards.audit_card(actor, card, "<step>") writes "card.<step>".
                steps = re.findall(r'audit_card\(\s*\w+,\s*\w+,\s*"(\w+)"', text)
                for either in re.findall(r'"(\w+)" if approve else "(\w+)"', text):
                    steps += either
                codes |= {f"card.{step}" for step in steps}
    codes |= {f"tap.refused.{reason}" for reason in SECURITY_REFUSALS}
    return codes


def test_every_action_code_has_words():
    codes = action_codes_in_the_code_base()
    assert {"payments.open_payment", "card.suspended", "tap.refused.replay"} <= codes  # it scans
    assert codes - set(vocabulary.ACTION_LABELS) == set()


def test_a_page_of_the_trail_costs_the_same_queries_for_5_or_50_entries(
    client, admin, django_assert_max_num_queries
):
    def page_queries(count: int) -> int:
        for _ in range(count):
            resident = ResidentFactory()
            record_audit_entry(
                actor=staff_user("clerk"), action="staff.file_viewed", person=resident
            )
        with django_assert_max_num_queries(100) as captured:
            client.get(TRAIL)
        return len(captured.captured_queries)

    assert page_queries(5) == page_queries(45)


@pytest.mark.parametrize(
    ("action", "target", "words"),
    [
        ("staff.residents_searched", "3 results", "3 résultats"),
        (
            "library.members_exported",
            "120 members on 2026-11-25 (csv)",
            "120 adhérents au 25/11/2026",
        ),
        ("payments.open_payment", "payment:AbC123", "paiement AbC123"),
        ("staff.role_granted", "librarian:12", "Bibliothécaire"),
        (
            "tariff.grid_published",
            "Pass annuel piscine@2026-09-01",
            "Pass annuel piscine, à partir du 01/09/2026",
        ),
        ("tariff.grid_withdrawn", "Entrée@2027-01-01", "Entrée, à partir du 01/01/2027"),
        ("canteen.no_shows_recorded", "Ab_c-1:2026-11-30:2", "30/11/2026\u00a0: 2 absents"),
        ("canteen.kitchen_list_opened", "Ab_c-1:2026-12-03", "03/12/2026"),
        ("canteen.served", "Ab_c-1:2026-12-03:served", "03/12/2026"),
        # Public ids go to the reference (a code on the page), never into the words.
        ("canteen.booked", "Ab_c-1:10", "10 jours"),
        ("canteen.cancelled", "Ab_c-1:1", "1 jour"),
        ("canteen.month_billed", "2026-11:AbC123", "novembre 2026 AbC123"),
        ("canteen.absence_accepted", "absence:AbC123", "absence justifiée AbC123"),
        ("appointments.booked", "AbC123", "rendez-vous AbC123"),
        ("household.residency_verified", "vault:AbC123", "document du coffre-fort AbC123"),
        ("canteen.menus_published", "canteen.Menu:3", ""),
        (
            "canteen.served",
            "Ab_c-1:2026-12-03:served_without_booking",
            "03/12/2026, sans réservation",
        ),
        (
            "canteen.children_searched",
            "Ab_c-1:2026-12-03:1 results",
            "03/12/2026\u00a0: 1 résultat",
        ),
    ],
)
def test_references_read_in_words(action, target, words):
    entry = record_audit_entry(actor=None, action=action, target=target)
    assert vocabulary.detail(entry) == words


def test_the_api_gives_the_resident_the_same_words(client, camille, clerk):
    record_audit_entry(
        actor=clerk,
        action="person.corrected",
        person=camille,
        reason="Acte présenté",
        changes={"last_name": ["Martn", "Martin"]},
    )
    client.force_login(camille.user)
    [access] = client.get("/api/v1/household/file-accesses").json()
    assert access["action"] == "person.corrected"
    assert access["action_label"] == "Identité corrigée"
    assert access["reason"] == "Acte présenté"
    assert access["changes"] == [{"field": "Nom", "before": "Martn", "after": "Martin"}]
    assert access["staff"] == "Agent d’accueil de la mairie — Paul"
