"""Change of address: the household's dated history changes from the moving day when the
town accepts it, and the services that care are told through the registry."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from identity.models import HouseholdAddress
from services.catalog import registry
from services.moving import procedures
from tests.documents_vault.factories import pdf_bytes, stored_document
from tests.factories import ResidentFactory

from .factories import accept, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def told():
    heard = []
    service = registry.MunicipalService(
        key="test_canteen",
        name="Canteen",
        on_address_change=lambda household, since: heard.append((household.pk, since)),
    )
    registry.register_service(service)
    yield heard
    registry.unregister_service("test_canteen")


def test_an_accepted_move_enters_the_address_history_and_tells_the_services(told):
    resident = ResidentFactory(address__valid_from=date(2020, 1, 1))
    commune = resident.household.addresses.get().commune
    proof = stored_document(resident, kind="proof_of_address", content=pdf_bytes(pages=2))
    moved_in = timezone.localdate() - timedelta(days=3)
    file = submit(
        procedures.KEY,
        resident,
        {
            "new_address": {
                "line1": "8 rue Nationale",
                "postcode": "46000",
                "commune": commune.insee_code,
            },
            "moved_in": moved_in.isoformat(),
            "proof_of_address": proof.public_id,
        },
    )
    assert HouseholdAddress.objects.filter(household=resident.household).count() == 1
    accept(file)
    history = list(
        HouseholdAddress.objects.filter(household=resident.household).order_by("valid_from")
    )
    assert [(a.line1, a.valid_until) for a in history] == [
        ("1 place François Mitterrand", moved_in),
        ("8 rue Nationale", None),
    ]
    assert told == [(resident.household.pk, moved_in)]


def test_a_move_the_history_refuses_is_not_accepted_and_nothing_changes(told):
    from identity.errors import DomainError

    resident = ResidentFactory(address__valid_from=date(2020, 1, 1))
    commune = resident.household.addresses.get().commune
    proof = stored_document(resident, kind="proof_of_address", content=pdf_bytes(pages=2))
    file = submit(
        procedures.KEY,
        resident,
        {
            "new_address": {
                "line1": "8 rue Nationale",
                "postcode": "46000",
                "commune": commune.insee_code,
            },
            "moved_in": "2019-06-01",  # before the current address
            "proof_of_address": proof.public_id,
        },
    )
    with pytest.raises(DomainError):
        accept(file)
    file.refresh_from_db()
    assert file.state == "in_review"
    assert HouseholdAddress.objects.filter(household=resident.household).count() == 1
    assert told == []
