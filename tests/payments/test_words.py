"""Payments in French words: the desk channel, the models' names in the admin, the providers."""

import pytest
from django.apps import apps
from django.utils import translation

from payments.labels import bucket_label, provider_label
from payments.models import Channel
from services.catalog.models import AccessPoint


def test_the_desk_channel_reads_accueil_and_keeps_its_own_words_for_other_desks():
    with translation.override("fr"):
        assert Channel.DESK.label == "Accueil"
        assert bucket_label("desk_cash") == "Accueil — espèces"
        assert provider_label("desk") == "Guichet de la régie"
        assert str(AccessPoint.Kind.DESK.label) == "Accueil"
    with translation.override("en"):
        assert Channel.DESK.label == "Desk"


@pytest.mark.parametrize("model", list(apps.get_app_config("payments").get_models()))
def test_every_payments_model_has_a_french_name(model):
    options = model._meta.original_attrs
    assert "verbose_name" in options
    assert "verbose_name_plural" in options
    with translation.override("fr"):
        french = str(model._meta.verbose_name_plural)
    with translation.override("en"):
        english = str(model._meta.verbose_name_plural)
    assert french != english or french in {"documents", "régies"}  # the same in both
