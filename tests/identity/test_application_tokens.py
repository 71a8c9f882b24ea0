"""Administrators issue, name, scope, renew and revoke the bearer tokens of staff applications
(the library's system, a partner). The secret is shown once; the scope is a role at facilities
the administrator manages; every step is in the audit trail."""

import pytest
from django.urls import reverse

from identity.actions.api_tokens import issue_api_token, revoke_api_token, rotate_api_token
from identity.actions.staff import grant_staff_role
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import ApiToken, AuditEntry, Facility, StaffRole, User
from tests.factories import CardFactory, FacilityFactory, PassFactory, bearer, staff_user

pytestmark = pytest.mark.django_db

TOKENS = reverse("identity:application_tokens")
LIBRARY_EXPORT = "/api/v1/library/members"


@pytest.fixture
def library():
    return FacilityFactory(kind=Facility.Kind.LIBRARY, name="Médiathèque du Grand Cahors")


@pytest.fixture
def pool():
    return FacilityFactory(kind=Facility.Kind.POOL, name="Piscine de Cahors")


@pytest.fixture
def admin():
    return staff_user(StaffRole.Role.ADMIN)


def nothing_written():
    assert not ApiToken.objects.exists()
    assert not User.objects.filter(is_application=True).exists()
    assert not AuditEntry.objects.filter(action__startswith="api_token.").exists()


def test_an_administrator_issues_a_token_and_sees_its_secret_once(client, admin, library):
    card = CardFactory()
    PassFactory(holder=card.holder, facility_kind=Facility.Kind.LIBRARY)
    client.force_login(admin)

    response = client.post(
        TOKENS, {"name": "SIGB de la médiathèque", "role": "librarian", "facilities": [library.pk]}
    )

    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    secret = response.context["issued"].secret
    assert secret in response.content.decode()
    token = ApiToken.objects.get()
    assert secret not in (token.prefix, token.key_hash)  # only its hash is kept
    assert token.user.is_application
    assert token.issued_by == admin
    assert [(g.role, g.facility) for g in token.user.staff_roles.all()] == [("librarian", library)]
    entry = AuditEntry.objects.get(action="api_token.issued")
    assert (entry.actor, entry.target) == (admin, "SIGB de la médiathèque")

    # The application uses it (no second factor asked of an application), and is named.
    export = client.get(LIBRARY_EXPORT, headers=bearer(secret))
    assert export.status_code == 200
    assert [m["borrower_number"] for m in export.json()["members"]] == [card.number]
    used = AuditEntry.objects.get(action="library.members_exported")
    assert used.actor == token.user

    listing = client.get(TOKENS).content.decode()
    assert "SIGB de la médiathèque" in listing
    assert "Bibliothécaire — Médiathèque du Grand Cahors" in listing
    assert secret not in listing


def test_a_token_does_only_what_its_role_allows(client, admin, pool, library):
    issued = issue_api_token(actor=admin, name="Partenaire", role="pool_agent", facilities=[pool])
    response = client.get(LIBRARY_EXPORT, headers=bearer(issued.secret))
    assert response.status_code == 403


def test_a_facility_the_administrator_does_not_manage_is_refused_naming_the_field(
    client, pool, library
):
    pool_admin = staff_user(StaffRole.Role.ADMIN, facility=pool)
    with pytest.raises(Forbidden) as refused:
        issue_api_token(actor=pool_admin, name="SIGB", role="librarian", facilities=[library])
    assert refused.value.field == "facilities"
    with pytest.raises(Forbidden) as town_wide:
        issue_api_token(actor=pool_admin, name="Partenaire", role="clerk", facilities=[])
    assert town_wide.value.field == "facilities"
    nothing_written()

    client.force_login(pool_admin)
    response = client.post(
        TOKENS, {"name": "SIGB", "role": "librarian", "facilities": [library.pk]}
    )
    assert response.status_code == 400
    assert "facilities" in response.context["form"].errors
    nothing_written()


@pytest.mark.parametrize(
    ("name", "role", "where", "field"),
    [
        ("", "librarian", "library", "name"),
        ("Partenaire", "admin", None, "role"),
        ("Partenaire", "archivist", None, "role"),
        ("Caisse piscine", "pool_agent", "library", "facilities"),
        ("Caisse piscine", "pool_agent", None, "facilities"),
    ],
    ids=["no-name", "administrator", "unknown-role", "pool-agent-at-a-library", "town-wide-agent"],
)
def test_a_scope_that_makes_no_sense_is_refused(admin, library, name, role, where, field):
    facilities = [library] if where else []
    with pytest.raises(DomainError) as refused:
        issue_api_token(actor=admin, name=name, role=role, facilities=facilities)
    assert refused.value.field == field
    nothing_written()


def test_renewing_the_secret_stops_the_previous_one(client, admin, library):
    issued = issue_api_token(actor=admin, name="SIGB", role="librarian", facilities=[library])
    client.force_login(admin)

    response = client.post(reverse("identity:rotate_application_token", args=[issued.token.pk]))

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    renewed = response.context["issued"].secret
    assert renewed != issued.secret
    client.logout()
    assert client.get(LIBRARY_EXPORT, headers=bearer(issued.secret)).status_code == 401
    assert client.get(LIBRARY_EXPORT, headers=bearer(renewed)).status_code == 200
    assert AuditEntry.objects.filter(action="api_token.rotated", actor=admin).count() == 1


def test_revoking_ends_the_token_and_its_roles(client, admin, library):
    issued = issue_api_token(actor=admin, name="SIGB", role="librarian", facilities=[library])
    client.force_login(admin)

    response = client.post(
        reverse("identity:revoke_application_token", args=[issued.token.pk]), follow=True
    )

    assert "révoqué" in response.content.decode()
    client.logout()
    assert client.get(LIBRARY_EXPORT, headers=bearer(issued.secret)).status_code == 401
    assert not StaffRole.objects.filter(user=issued.token.user, revoked_at__isnull=True).exists()
    assert AuditEntry.objects.filter(action="api_token.revoked", actor=admin).count() == 1
    with pytest.raises(Conflict):
        revoke_api_token(actor=admin, token=issued.token)
    with pytest.raises(Conflict):
        rotate_api_token(actor=admin, token=issued.token)


def test_an_administrator_of_another_facility_cannot_renew_or_revoke(admin, pool, library):
    issued = issue_api_token(actor=admin, name="SIGB", role="librarian", facilities=[library])
    pool_admin = staff_user(StaffRole.Role.ADMIN, facility=pool)
    with pytest.raises(Forbidden):
        rotate_api_token(actor=pool_admin, token=issued.token)
    with pytest.raises(Forbidden):
        revoke_api_token(actor=pool_admin, token=issued.token)
    assert AuditEntry.objects.filter(action__startswith="api_token.").count() == 1


@pytest.mark.parametrize("role", ["clerk", "librarian", "finance_officer"])
def test_other_staff_cannot_reach_the_tokens(client, role, library):
    client.force_login(staff_user(role, facility=library if role == "librarian" else None))
    assert client.get(TOKENS).status_code == 403
    assert client.post(TOKENS, {"name": "x", "role": "clerk"}).status_code == 403
    nothing_written()


# --- Staff roles: granted where they are held, by who manages the facility ----------------


@pytest.mark.parametrize(
    ("role", "kind"),
    [("pool_agent", "library"), ("librarian", "pool"), ("canteen_agent", "town_hall")],
)
def test_a_role_at_a_facility_of_another_kind_is_refused(admin, role, kind):
    facility = FacilityFactory(kind=kind)
    newcomer = User.objects.create_user(email="newcomer@example.org")
    with pytest.raises(DomainError) as refused:
        grant_staff_role(actor=admin, user=newcomer, role=role, facility=facility)
    assert refused.value.field == "facility"
    assert not StaffRole.objects.filter(user=newcomer).exists()
    assert not AuditEntry.objects.filter(action="staff.role_granted").exists()


def test_an_agent_role_needs_its_facility_and_a_town_wide_role_a_town_wide_admin(pool):
    newcomer = User.objects.create_user(email="newcomer@example.org")
    admin = staff_user(StaffRole.Role.ADMIN)
    with pytest.raises(DomainError) as no_pool:
        grant_staff_role(actor=admin, user=newcomer, role="pool_agent", facility=None)
    assert no_pool.value.field == "facility"
    pool_admin = staff_user(StaffRole.Role.ADMIN, facility=pool)
    with pytest.raises(Forbidden):
        grant_staff_role(actor=pool_admin, user=newcomer, role="clerk", facility=None)
    grant = grant_staff_role(actor=pool_admin, user=newcomer, role="pool_agent", facility=pool)
    assert (grant.role, grant.facility) == ("pool_agent", pool)
