"""A staff account without a second factor can do nothing but set one up, whichever way it comes
in: its browser session, the API with that session, or a bearer token of its own."""

import pytest

from identity.models import AuditEntry, Facility, StaffRole
from tests.factories import FacilityFactory, ResidentFactory, bearer, staff_user, with_totp
from tests.identity.factories import api_token_for

pytestmark = pytest.mark.django_db


def token_of(user) -> str:
    return api_token_for(user, name="script")[1]


def test_a_bearer_token_of_a_staff_account_without_second_factor_is_a_403(client):
    clerk = staff_user(StaffRole.Role.CLERK, second_factor=False)
    response = client.get("/api/v1/me", headers=bearer(token_of(clerk)))
    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_required"
    assert "second facteur" in response.json()["message"]


def test_the_same_token_works_once_the_account_has_a_second_factor(client):
    clerk = staff_user(StaffRole.Role.CLERK, second_factor=False)
    token = token_of(clerk)
    with_totp(clerk)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200


def test_the_library_export_refuses_a_librarian_token_without_second_factor(client):
    library = FacilityFactory(kind=Facility.Kind.LIBRARY)
    librarian = staff_user(StaffRole.Role.LIBRARIAN, facility=library, second_factor=False)
    response = client.get("/api/v1/library/members", headers=bearer(token_of(librarian)))
    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_required"
    assert not AuditEntry.objects.filter(action="library.members_exported").exists()


def test_a_session_without_second_factor_gets_a_403_on_the_api(client):
    clerk = staff_user(StaffRole.Role.CLERK, second_factor=False)
    client.force_login(clerk)
    response = client.get("/api/v1/me")
    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_required"


def test_a_residents_token_needs_no_second_factor(client):
    resident = ResidentFactory()
    assert client.get("/api/v1/me", headers=bearer(token_of(resident.user))).status_code == 200
