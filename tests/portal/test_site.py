"""The site as every visitor meets it: French first, English on request, a strict CSP, and
settings that refuse to run in production with the public demo key."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_pages_are_in_french_by_default_whatever_the_browser_says(client):
    response = client.get(reverse("landing"), HTTP_ACCEPT_LANGUAGE="en-GB,en")
    page = response.content.decode()
    assert response["Content-Language"] == "fr"
    assert '<html lang="fr">' in page
    assert "Créer un compte" in page


def test_the_language_switch_gives_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get(reverse("landing")).content.decode()
    assert '<html lang="en">' in page
    assert "Create an account" in page


def test_allauth_pages_are_french_too(client):
    page = client.get(reverse("account_login")).content.decode()
    assert "Mot de passe" in page


def test_mon_espace_has_a_panel_for_each_service_to_come(client):
    resident = ResidentFactory()
    client.force_login(resident.user)
    page = client.get(reverse("portal:home")).content.decode()
    for panel in ["cards", "services", "bookings", "procedures", "documents", "payments"]:
        assert f'id="panel-{panel}"' in page


def test_every_page_carries_a_strict_content_security_policy(client):
    policy = client.get(reverse("landing"))["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy


def _import_settings(code: str = "import portal.settings", **env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "SESAME_CARD_MASTER_KEY"}
    }
    return subprocess.run(  # noqa: S603 - the test's own code, run by this Python
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_the_demo_secret_key():
    refused = _import_settings(DEBUG="0")
    assert refused.returncode != 0
    assert "SECRET_KEY" in refused.stderr
    assert _import_settings(DEBUG="1").returncode == 0
    real_keys = {
        "SECRET_KEY": "a-real-secret-from-the-environment",
        "SESAME_CARD_MASTER_KEY": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    }
    assert _import_settings(DEBUG="0", **real_keys).returncode == 0


def test_production_refuses_the_demo_card_master_key():
    refused = _import_settings(DEBUG="0", SECRET_KEY="a-real-secret-from-the-environment")
    assert refused.returncode != 0
    assert "SESAME_CARD_MASTER_KEY" in refused.stderr


# --- A NUL character never reaches a view (PostgreSQL refuses them: it would be a 500) -------


@pytest.mark.parametrize("url", ["/c/%00", "/agents/paiements/abc%00def/", "/mon-espace/%00/"])
def test_an_address_with_a_nul_character_names_nothing(client, url):
    assert client.get(url).status_code == 404


def test_a_nul_character_in_a_query_is_a_400_naming_the_field(client):
    response = client.get("/mon-espace/", {"tab": "a\x00"})
    assert response.status_code == 400
    # French typography on the page: non-breaking spaces inside the guillemets.
    assert "Le champ «\u00a0tab\u00a0» contient un caractère interdit." in response.content.decode()
    assert "<h1>Demande refusée</h1>" in response.content.decode()  # a page, in French


def test_a_nul_character_in_a_form_is_a_400_naming_the_field(client):
    response = client.post("/accounts/login/", {"login": "a\x00b", "password": "x"})
    assert response.status_code == 400
    assert "«\u00a0login\u00a0»" in response.content.decode()


def test_the_api_answers_in_json(client):
    response = client.get("/api/v1/communes", {"q": "\x00"})
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_characters",
        "message": "Le champ « q » contient un caractère interdit.",
        "field": "q",
    }


def test_ordinary_input_passes(client):
    assert client.get("/", {"q": "Lucie-Aubrac €"}).status_code == 200


def test_a_missing_page_is_a_french_page(client):
    response = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    assert "<h1>Page introuvable</h1>" in response.content.decode()


def test_the_server_error_page_stands_alone_in_french():
    from django.template.loader import render_to_string

    html = render_to_string("500.html")  # as Django renders it: no request, no context
    assert "Le service a rencontré une erreur" in html
