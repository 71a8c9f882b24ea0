"""The footer's legal pages (on every page, with a default text drawn from what Sésame holds,
replaced by what administrators write in the admin) and the admin itself, titled for Sésame
and in French."""

import pytest
from django.urls import reverse

from identity.models import AuditEntry, StaffRole
from portal.models import LegalPage
from tests.factories import (
    FacilityFactory,
    ResidentFactory,
    StaffRoleFactory,
    UserFactory,
    with_totp,
)

pytestmark = pytest.mark.django_db

PAGES = {
    "portal:legal_notice": "Mentions légales",
    "portal:privacy": "Données personnelles",
    "portal:accessibility": "Accessibilité",
    "portal:contact": "Contact",
}


@pytest.fixture
def administrator():
    user = UserFactory(first_name="Claire", is_staff=True, is_superuser=True)
    StaffRoleFactory(user=user, role=StaffRole.Role.ADMIN)
    with_totp(user)
    return user


def test_every_page_links_to_the_four_legal_pages(client):
    for page in [client.get("/"), client.get(reverse("account_login"))]:
        footer = page.content.decode().split("<footer", 1)[1]
        for name, title in PAGES.items():
            assert f'href="{reverse(name)}">{title}</a>' in footer


def test_each_legal_page_has_its_default_text(client):
    for name, title in PAGES.items():
        page = client.get(reverse(name))
        assert page.status_code == 200
        assert f"<h1>{title}</h1>" in page.content.decode()
    privacy = client.get(reverse("portal:privacy")).content.decode()
    for what in ["Ce qui est conservé", "Qui y a accès", "Pendant combien de temps", "CNIL"]:
        assert what in privacy
    assert "non conforme" in client.get(reverse("portal:accessibility")).content.decode()


def test_an_administrator_rewrites_a_legal_page_in_the_admin(client, administrator):
    client.force_login(administrator)
    page = LegalPage.objects.get(kind=LegalPage.Kind.LEGAL_NOTICE)
    url = reverse("admin:portal_legalpage_change", args=[page.pk])
    response = client.post(
        url, {"body": "## Hébergeur\nLa <b>régie</b> informatique.\n\n- Cahors\n- Pradines"}
    )
    assert response.status_code == 302
    shown = client.get(reverse("portal:legal_notice")).content.decode()
    assert "<h2>Hébergeur</h2>" in shown
    assert "La &lt;b&gt;régie&lt;/b&gt; informatique." in shown
    assert "<ul><li>Cahors</li><li>Pradines</li></ul>" in shown
    page.refresh_from_db()
    assert page.updated_by == administrator
    assert AuditEntry.objects.filter(
        action="portal.legal_page_updated", actor=administrator, target="legal_notice"
    ).exists()
    # Emptied, the page shows its default text again.
    client.post(url, {"body": ""})
    assert "Éditeur" in client.get(reverse("portal:legal_notice")).content.decode()


def test_legal_pages_are_four_neither_added_nor_deleted(client, administrator):
    client.force_login(administrator)
    assert LegalPage.objects.count() == 4
    assert client.get(reverse("admin:portal_legalpage_add")).status_code == 403
    page = LegalPage.objects.first()
    assert client.get(reverse("admin:portal_legalpage_delete", args=[page.pk])).status_code == 403


def test_only_administrators_rewrite_them():
    from identity.errors import Forbidden
    from portal.actions import update_legal_page

    with pytest.raises(Forbidden):
        update_legal_page(actor=ResidentFactory().user, kind="privacy", body="x")


def test_the_admin_is_titled_for_sesame_in_french(client, administrator):
    client.force_login(administrator)
    index = client.get(reverse("admin:index")).content.decode()
    assert "Sésame Grand Cahors — administration" in index
    assert "Administration de Django" not in index
    for section in ["Double authentification", "Tâches en arrière-plan", "Pages du site"]:
        assert section in index
    for model in ["Virements du prestataire", "Authentificateurs", "Résultats des tâches"]:
        assert model in index


def test_the_admin_names_people_and_its_columns(client, administrator):
    clerk = UserFactory(first_name="Paul", last_name="Durand")
    StaffRoleFactory(user=clerk, role=StaffRole.Role.CLERK, facility=FacilityFactory())
    client.force_login(administrator)
    listing = client.get(reverse("admin:identity_staffrole_changelist")).content.decode()
    assert "Paul Durand" in listing
    assert "user#" not in listing
    for column in ["Compte", "Équipement", "Accordé le", "Retiré le"]:
        assert f">{column}</a>" in listing
    assert "Par équipement" in listing  # a filter's title
