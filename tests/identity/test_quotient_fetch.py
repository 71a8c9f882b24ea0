"""The family quotient fetched from the CAF or the MSA through API Particulier, against a
local fake of the API (never the network): the parent's consent is recorded before the call,
the town's token and SIRET (`recipient`) are sent, a fetched quotient counts as verified and
the tariff engine prices with it; a timeout, an error or no file found gives a clear message
and keeps the quotient on record."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from identity import quotient_api
from identity.actions.household import declare_family_quotient
from identity.actions.quotient_fetch import fetch_family_quotient
from identity.errors import DomainError
from identity.models import AuditEntry, FamilyQuotient, Person
from services.catalog.tariffs import quote
from tests.factories import (
    PersonFactory,
    ResidentFactory,
    TariffGridFactory,
    TariffLineFactory,
    quotient_brackets,
)
from tests.identity.fake_api_particulier import SIRET, TOKEN, start_fake_api_particulier

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

TODAY = date(2026, 12, 5)


@pytest.fixture
def api(settings, monkeypatch):
    fake, server = start_fake_api_particulier()
    settings.API_PARTICULIER_URL = fake.url
    settings.API_PARTICULIER_TOKEN = TOKEN
    settings.API_PARTICULIER_SIRET = SIRET
    monkeypatch.setattr(quotient_api.ApiParticulierQuotient, "timeout", 0.5)
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def family():
    parent = ResidentFactory(first_name="Élodie", last_name="Bernard", birth_date=date(1990, 3, 18))
    child = PersonFactory(
        household=parent.household, role=Person.Role.CHILD, birth_date=date(2018, 4, 20)
    )
    return parent, child


@pytest.fixture
def lunch():
    """A lunch at 3,50 €, 1,00 € in the first bracket of the quotient (≤ 500 €)."""
    grid = TariffGridFactory(product__name="Repas")
    TariffLineFactory(grid=grid, price_cents=350)
    TariffLineFactory(grid=grid, qf_bracket=1, price_cents=100)
    quotient_brackets()
    return grid.product


def fetch(parent, **overrides):
    fields = {
        "actor": parent.user,
        "household": parent.household,
        "person": parent,
        "consent": True,
        "sex": "F",
        "birth_commune": "08480",
    }
    fields.update(overrides)
    return fetch_family_quotient(**fields)


@time_machine.travel(TODAY)
def test_a_fetched_quotient_is_verified_and_prices_the_meal(api, family, lunch):
    parent, child = family
    api.files[("BERNARD", "ÉLODIE", "1990-03")] = (450, "CNAF")
    assert quote(product=lunch, person=child, on=TODAY).price_cents == 350  # no quotient yet
    quotient = fetch(parent)
    assert (quotient.amount, quotient.source) == (450, FamilyQuotient.Source.VERIFIED)
    assert quotient.evidence == "api_particulier:CNAF:2026-11"
    price = quote(product=lunch, person=child, on=TODAY)
    assert price.price_cents == 100
    assert price.explanation.endswith("QF 1, QF verified")  # the bill's why
    sent = api.received[0]
    assert sent["recipient"] == [SIRET]  # the town's SIRET, as the API requires
    assert sent["prenoms[]"] == ["Élodie"]
    assert sent["codeCogInseeCommuneNaissance"] == ["08480"]
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))
    assert actions[-2:] == ["household.quotient_fetch_consented", "household.quotient_fetched"]


@time_machine.travel(TODAY)
def test_without_consent_nothing_is_asked(api, family):
    parent, _child = family
    with pytest.raises(DomainError) as refused:
        fetch(parent, consent=False)
    assert refused.value.field == "consent"
    assert api.received == []


@time_machine.travel(TODAY)
@pytest.mark.parametrize("failure", ["stall", 503, 429, 401])
def test_an_api_failure_keeps_the_declared_quotient(api, family, lunch, failure):
    parent, child = family
    declare_family_quotient(
        actor=parent.user,
        household=parent.household,
        amount=1200,
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 12, 31),
    )
    api.files[("BERNARD", "ÉLODIE", "1990-03")] = (450, "CNAF")
    api.fail_next(failure)
    with pytest.raises(DomainError) as refused:
        fetch(parent)
    assert refused.value.code == "provider_unavailable"
    assert "Your quotient on record is kept" in refused.value.message
    assert list(FamilyQuotient.objects.values_list("amount", flat=True)) == [1200]
    # The consent was recorded all the same: it was given before the call.
    assert AuditEntry.objects.filter(action="household.quotient_fetch_consented").exists()


@time_machine.travel(TODAY)
def test_no_file_found_says_so(api, family):
    parent, _child = family
    with pytest.raises(DomainError) as refused:
        fetch(parent)
    assert refused.value.code == "not_found"
    assert not FamilyQuotient.objects.exists()


@time_machine.travel(TODAY)
def test_born_in_france_needs_the_commune(api, family):
    parent, _child = family
    with pytest.raises(DomainError) as refused:
        fetch(parent, birth_commune="")
    assert refused.value.field == "birth_commune"
    api.files[("BERNARD", "ÉLODIE", "1990-03")] = (700, "MSA")
    assert fetch(parent, birth_country="99127", birth_commune="").amount == 700  # born in Italy
    assert "codeCogInseeCommuneNaissance" not in api.received[-1]


def test_not_configured_the_town_says_to_declare(family, settings):
    settings.API_PARTICULIER_TOKEN = ""
    parent, _child = family
    with pytest.raises(DomainError) as refused:
        fetch(parent)
    assert refused.value.code == "not_configured"


@time_machine.travel(TODAY)
def test_the_parent_fetches_from_the_quotient_page(api, family, client):
    parent, _child = family
    api.files[("BERNARD", "ÉLODIE", "1990-03")] = (450, "CNAF")
    client.force_login(parent.user)
    page = reverse("identity:fetch_quotient")
    form = client.get(page).content.decode()
    assert 'name="consent"' in form
    refused = client.post(page, {"sex": "F", "birth_country": "99100", "birth_commune": "08480"})
    assert "Tick the box" in refused.content.decode()
    api.fail_next("stall")
    failed = client.post(
        page,
        {"sex": "F", "birth_country": "99100", "birth_commune": "08480", "consent": "on"},
    )
    assert "did not answer" in failed.content.decode()
    done = client.post(
        page,
        {"sex": "F", "birth_country": "99100", "birth_commune": "08480", "consent": "on"},
        follow=True,
    )
    assert "Your family quotient was fetched" in done.content.decode()
    assert FamilyQuotient.objects.get().source == "verified"
