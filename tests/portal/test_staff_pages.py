"""Staff pages in words: capabilities, access points named once, each desk speaking for its
facility, and the finance officer's pages (provider names, date pickers, the reconciliation
with the same labels on the page and in its PDF)."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from identity.models import Facility
from services.catalog.models import AccessPoint
from tests.portal.demo_site import ROLES, load_demo, log_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_client(client):
    accounts = load_demo()

    def as_role(role: str):
        client.logout()
        log_in(client, accounts[ROLES[role]])
        return client

    return as_role


def test_the_staff_home_says_what_roles_allow_in_words(demo_client):
    page = demo_client("pool_agent").get(reverse("portal:staff_home")).content.decode()
    assert "<li>Contrôler les cartes</li>" in page
    assert "<li>Voir la fréquentation</li>" in page
    assert "scan_cards" not in page
    assert "view_attendance" not in page
    assert "Agent de piscine · Piscine de Cahors" in page


def test_an_access_point_is_named_once(demo_client):
    page = demo_client("pool_agent").get(reverse("card:desk_list")).content.decode()
    assert "Accueil Accueil" not in page
    assert "Entrée</a>" in page  # an entrance named "Entrée" needs no kind after it


def desk_history(kind: str, entitlement: dict | None) -> str:
    point = AccessPoint.objects.filter(facility__kind=kind).first()
    row = {
        "granted": True,
        "at": datetime(2026, 12, 5, 10, 0, tzinfo=ZoneInfo("Europe/Paris")),
        "reason_label": "Entrée autorisée",
        "flags": [],
        "first_name": "Camille",
        "how": "Carte",
        "entitlement": entitlement,
    }
    with translation.override("fr"):
        return render_to_string("card/desk_history.html", {"point": point, "history": [row]})


def test_each_desk_speaks_for_its_facility(demo_client):
    book = {"label": "Carnet 10 entrées", "remaining": 8, "consumed": 2, "valid_until": None}
    membership = {
        "label": "Adhésion médiathèque",
        "remaining": None,
        "consumed": 0,
        "valid_until": "2026-12-31",
    }
    pool = desk_history(Facility.Kind.POOL, book)
    assert "Carnet 10 entrées — 8 restantes" in pool
    library = desk_history(Facility.Kind.LIBRARY, membership)
    assert "Adhésion médiathèque — jusqu’au 31/12/2026" in library
    town_hall = desk_history(Facility.Kind.TOWN_HALL, None)
    for page in (pool, library, town_hall):
        assert "Entrées restantes" not in page
        assert "2026-12-31" not in page
    assert "Droit utilisé" not in town_hall


def test_payments_filters_are_date_pickers_and_provider_names(demo_client):
    page = demo_client("finance_officer").get(reverse("payments:staff_payments")).content.decode()
    assert page.count('type="date"') == 2
    assert '<option value="desk">Guichet de la régie</option>' in page
    assert '<option value="demo">Démo, aucun paiement réel</option>' in page
    assert "Guichet de la régie — Espèces" in page  # the listing's provider column
    assert "(desk)" not in page
    assert "(demo" not in page


def test_the_reconciliation_says_the_same_on_the_page_and_in_its_pdf(demo_client):
    client = demo_client("finance_officer")
    page = client.get(reverse("payments:reconciliation")).content.decode()
    pdf = client.get(reverse("payments:reconciliation"), {"format": "pdf"})
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    for label in [
        "Totaux par régie",
        "Encaissements par canal",
        "En ligne",
        "Accueil — espèces",
        "Accueil — chèques",
        "Remboursements",
        "Dépenses sur les porte-monnaie (entrées)",
        "Virements du prestataire",
        "Démo, aucun paiement réel",
        "Détail des paiements",
        "Grand livre équilibré",
    ]:
        assert label in page, label
        assert label in text, label
