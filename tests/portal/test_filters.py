"""The template filters every page uses (portal/templatetags/sesame.py): French typography,
dates in words, codes in words."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from portal.templatetags.sesame import day, prose, provider, tone, typography

NBSP = "\u00a0"


@pytest.fixture
def in_french():
    with translation.override("fr"):
        yield


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Quotient familial : 850 €", f"Quotient familial{NBSP}: 850 €"),
        ("Remplacer la carte ?", f"Remplacer la carte{NBSP}?"),
        ("Merci !", f"Merci{NBSP}!"),
        ("Merci!", f"Merci{NBSP}!"),
        ("Payée ; reçue", f"Payée{NBSP}; reçue"),
        ("le champ « tab » est vide", f"le champ «{NBSP}tab{NBSP}» est vide"),
        ("3 entrées à Piscine de Cahors", "3 entrées à la Piscine de Cahors"),
        ("Entrées à Médiathèque du Grand Cahors", "Entrées à la Médiathèque du Grand Cahors"),
        ("Repas à École Lucie-Aubrac", "Repas à l’École Lucie-Aubrac"),
        ("Match à Gymnase Nord.", "Match au Gymnase Nord."),
        ("Horaires de Piscine de Pradines", "Horaires de la Piscine de Pradines"),
        ("Horaires du Stade", "Horaires du Stade"),
        ("déjà à la Piscine de Cahors", "déjà à la Piscine de Cahors"),
        ("agent de piscine", "agent de piscine"),
        ("ouvert de 12:00 à 13:45", "ouvert de 12:00 à 13:45"),
    ],
)
def test_french_typography_on_text(in_french, text, expected):
    assert typography(text) == expected


def test_only_text_changes_never_markup_code_or_fields(in_french):
    html = (
        '<a href="/x?next=/y" title="Titre : ici">Lien : là</a>'
        "<code>a : b</code><script>var x = a ? b : c;</script>"
        '<textarea name="t">x : y</textarea><p>Fin !</p>'
    )
    assert typography(mark_safe(html)) == (  # noqa: S308 - a test of the filter on markup
        f'<a href="/x?next=/y" title="Titre : ici">Lien{NBSP}: là</a>'
        "<code>a : b</code><script>var x = a ? b : c;</script>"
        f'<textarea name="t">x : y</textarea><p>Fin{NBSP}!</p>'
    )
    assert isinstance(typography(mark_safe("<p>a : b</p>")), SafeString)
    assert typography("&amp; ok;") == "&amp; ok;"  # entities keep their semicolon


def test_english_pages_keep_their_typography():
    with translation.override("en"):
        assert typography("Status: paid!") == "Status: paid!"


def test_the_whole_page_goes_through_it(client):
    page = client.get("/").content.decode()
    assert f"territoire{NBSP}; chaque accès" in page


@pytest.mark.parametrize(
    ("value", "style", "expected"),
    [
        (date(2026, 12, 31), "long", "31 décembre 2026"),
        (date(2026, 12, 31), "short", "31/12/2026"),
        ("2026-12-31", "long", "31 décembre 2026"),
        (datetime(2026, 12, 31, 23, 30, tzinfo=ZoneInfo("UTC")), "long", "1er janvier 2027"),
        ("not a date", "long", "not a date"),
        (None, "long", ""),
    ],
)
def test_a_day_in_french_words(in_french, value, style, expected):
    assert day(value, style) == expected


def test_a_day_in_a_template(in_french):
    rendered = Template('{% load sesame %}{{ until|day }} · {{ until|day:"short" }}').render(
        Context({"until": "2027-12-31"})
    )
    assert rendered == "31 décembre 2027 · 31/12/2027"


def test_codes_in_words(in_french):
    assert provider("desk") == "Guichet de la régie"
    assert provider("demo") == "Démo, aucun paiement réel"
    assert provider("stripe") == "Stripe"
    assert (tone("active"), tone("pending"), tone("failed"), tone("replaced")) == (
        "ok",
        "warn",
        "danger",
        "neutral",
    )


def test_an_administrators_text_is_never_markup():
    html = prose("## Éditeur\nLa <b>mairie</b> de Cahors.\n\n- un\n- deux\nsuite\n\nFin & merci")
    assert html == (
        "<h2>Éditeur</h2>\n<p>La &lt;b&gt;mairie&lt;/b&gt; de Cahors.</p>\n"
        "<ul><li>un</li><li>deux</li></ul>\n<p>suite</p>\n<p>Fin &amp; merci</p>"
    )
