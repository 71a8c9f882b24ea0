"""Every write through an action, the admin included (issue #10): each admin page that may
add, change or delete saves and deletes through an action (audited), never Django's default
ModelAdmin writes; staff roles are granted and revoked (dated, never deleted) by their
actions; tariff grids are published by the one publication action; an action's refusal shows
on the form's field and writes nothing."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from card.models import Reader
from identity.admin import ActionModelAdmin
from identity.models import ApiToken, AuditEntry, Commune, Facility, StaffRole, TrustPolicy
from payments.models import Regie
from services.catalog import admin as catalog_admin
from services.catalog.models import TariffGrid
from services.catalog.tariffs import LineInput, publish_tariff_grid
from tests.factories import (
    AccessPointFactory,
    CommuneFactory,
    FacilityFactory,
    ProductFactory,
    TerritoryFactory,
    UserFactory,
    site_administrator,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

PARIS = ZoneInfo("Europe/Paris")

# Read-only pages whose one admin action calls an action (audited).
ACTION_ONLY_ADMIN_ACTIONS = {"mfa.Authenticator": {"reset_second_factor"}}

# What Django's ModelAdmin writes with, and what an admin overrides to call an action instead.
WRITE_HOOKS = ["save_model", "save_related", "save_formset", "delete_model", "delete_queryset"]


@pytest.fixture
def administrator():
    """A town-wide administrator who reaches /admin/ (as the demo's admin does)."""
    return site_administrator()


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


def writes(model_admin, request) -> bool:
    return (
        model_admin.has_add_permission(request)
        or model_admin.has_change_permission(request)
        or model_admin.has_delete_permission(request)
    )


# --- Every admin page -------------------------------------------------------------------------


def test_every_admin_that_writes_writes_through_actions(administrator):
    request = RequestFactory().get("/admin/")
    request.user = administrator
    writing, read_only = [], []
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label
        if not writes(model_admin, request):
            read_only.append(label)
            # A read-only page has no admin action of its own either (one could write), but
            # for the second factor's reset, which is an audited action.
            allowed = ACTION_ONLY_ADMIN_ACTIONS.get(label, set())
            assert set(model_admin.get_actions(request)) == allowed, label
            for name in allowed:
                assert model_admin.get_actions(request)[name][0].__module__ != "django"
            continue
        writing.append(label)
        assert isinstance(model_admin, ActionModelAdmin), label
        for hook in WRITE_HOOKS:
            assert getattr(type(model_admin), hook) is not getattr(admin.ModelAdmin, hook), (
                label,
                hook,
            )
    # The walk saw both kinds (it cannot pass by seeing nothing).
    assert {"identity.StaffRole", "catalog.TariffGrid", "identity.Territory"} <= set(writing)
    assert {"catalog.FacilityOccupancy", "mfa.Authenticator"} <= set(read_only)
    assert "auth.Group" not in writing  # roles are StaffRole rows


def test_api_tokens_cannot_be_written_in_the_admin(administrator):
    request = RequestFactory().get("/admin/")
    request.user = administrator
    model_admin = admin.site._registry.get(ApiToken)
    assert model_admin is None or not writes(model_admin, request)


# --- Staff roles ------------------------------------------------------------------------------


def test_granting_a_role_in_the_admin_is_audited(admin_client, administrator):
    pool = FacilityFactory(kind=Facility.Kind.POOL)
    agent = UserFactory()
    response = admin_client.post(
        "/admin/identity/staffrole/add/",
        {"user": agent.pk, "role": StaffRole.Role.POOL_AGENT, "facility": pool.pk},
    )
    assert response.status_code == 302
    grant = StaffRole.objects.get(user=agent)
    assert (grant.role, grant.facility, grant.revoked_at) == ("pool_agent", pool, None)
    entry = AuditEntry.objects.get(action="staff.role_granted")
    assert (entry.actor, entry.target) == (administrator, f"pool_agent:{agent.pk}")


def test_a_pool_agent_role_at_a_library_is_refused_on_the_facility_field(admin_client):
    library = FacilityFactory(kind=Facility.Kind.LIBRARY, name="Médiathèque")
    agent = UserFactory()
    response = admin_client.post(
        "/admin/identity/staffrole/add/",
        {"user": agent.pk, "role": StaffRole.Role.POOL_AGENT, "facility": library.pk},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "cannot be held at Médiathèque" in errors["facility"][0]
    assert not StaffRole.objects.filter(user=agent).exists()
    assert not AuditEntry.objects.exists()


def test_a_role_is_never_deleted_in_the_admin_but_revoked_dated(admin_client, administrator):
    grant = StaffRole.objects.create(user=UserFactory(), role=StaffRole.Role.CLERK)
    assert admin_client.post(f"/admin/identity/staffrole/{grant.pk}/delete/").status_code == 403
    assert admin_client.post(f"/admin/identity/staffrole/{grant.pk}/change/").status_code == 403
    listing = "/admin/identity/staffrole/"
    deleting = admin_client.post(
        listing, {"action": "delete_selected", "_selected_action": [grant.pk], "post": "yes"}
    )
    assert deleting.status_code == 302  # "no action selected": delete_selected is not offered
    assert StaffRole.objects.filter(pk=grant.pk, revoked_at=None).exists()
    with time_machine.travel(datetime(2026, 5, 4, 9, 30, tzinfo=PARIS), tick=False):
        revoking = admin_client.post(listing, {"action": "revoke", "_selected_action": [grant.pk]})
    assert revoking.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at == datetime(2026, 5, 4, 9, 30, tzinfo=PARIS)
    entry = AuditEntry.objects.get(action="staff.role_revoked")
    assert (entry.actor, entry.target) == (administrator, f"clerk:{grant.user_id}")


# --- Configuration rows -----------------------------------------------------------------------


def test_a_commune_edited_in_the_admin_is_audited_with_its_before_and_after(
    admin_client, administrator
):
    commune = CommuneFactory(name="Cahors", insee_code="46042", postcode="46000")
    form = {"territory": commune.territory_id, "name": "Cahors", "insee_code": "46042"}
    response = admin_client.post(
        f"/admin/identity/commune/{commune.pk}/change/", {**form, "postcode": "46090"}
    )
    assert response.status_code == 302
    commune.refresh_from_db()
    assert commune.postcode == "46090"
    entry = AuditEntry.objects.get(action="configuration.saved")
    assert entry.actor == administrator
    assert entry.target == f"identity.Commune:{commune.pk} {commune}"
    assert entry.changes == {"postcode": ["46000", "46090"]}

    assert (
        admin_client.post(
            f"/admin/identity/commune/{commune.pk}/delete/", {"post": "yes"}
        ).status_code
        == 302
    )
    assert not Commune.objects.filter(pk=commune.pk).exists()
    deleted = AuditEntry.objects.get(action="configuration.deleted")
    assert deleted.target == f"identity.Commune:{commune.pk} {commune}"


def test_the_territory_s_inline_trust_rules_are_saved_through_the_action(admin_client):
    territory = TerritoryFactory()
    response = admin_client.post(
        f"/admin/identity/territory/{territory.pk}/change/",
        {
            "name": territory.name,
            "siren": "",
            "trust-TOTAL_FORMS": "1",
            "trust-INITIAL_FORMS": "0",
            "trust-0-criterion": TrustPolicy.Criterion.values[0],
            "trust-0-mode": TrustPolicy.Mode.values[0],
            "trust-0-grace_days": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert TrustPolicy.objects.filter(territory=territory).count() == 1
    targets = list(
        AuditEntry.objects.filter(action="configuration.saved").values_list("target", flat=True)
    )
    assert len(targets) == 2  # the territory and its rule
    assert any(target.startswith("identity.TrustPolicy:") for target in targets)


def test_configuration_is_written_by_administrators_only(client):
    """A superuser without the administrator role (least privilege): the action refuses, the
    form says why, nothing is written."""
    clerk = site_administrator(StaffRole.Role.CLERK)
    client.force_login(clerk)
    territory = TerritoryFactory()
    response = client.post(
        "/admin/identity/commune/add/",
        {"territory": territory.pk, "name": "Pradines", "insee_code": "46224", "postcode": "1"},
    )
    assert response.status_code == 200
    assert "Only an administrator" in str(response.context["adminform"].form.non_field_errors())
    assert not Commune.objects.filter(name="Pradines").exists()
    assert not AuditEntry.objects.exists()


# --- Tariff grids -----------------------------------------------------------------------------


def grid_form(product, valid_from: str, price: str = "420") -> dict:
    return {
        "product": product.pk,
        "valid_from": valid_from,
        "valid_until": "",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-residency": "any",
        "lines-0-age_bracket": "any",
        "lines-0-reduced_category": "any",
        "lines-0-price_cents": price,
    }


def test_a_grid_saved_in_the_admin_goes_through_the_publication_action(
    admin_client, administrator, monkeypatch
):
    product = ProductFactory()
    calls = []

    def publish(**kwargs):
        calls.append(kwargs)
        return publish_tariff_grid(**kwargs)

    monkeypatch.setattr(catalog_admin, "publish_tariff_grid", publish)
    with time_machine.travel(datetime(2026, 11, 25, 9, 0, tzinfo=PARIS), tick=False):
        response = admin_client.post(
            "/admin/catalog/tariffgrid/add/", grid_form(product, "2027-01-01")
        )
    assert response.status_code == 302
    assert len(calls) == 1
    assert calls[0]["actor"] == administrator
    assert calls[0]["lines"] == [LineInput(price_cents=420)]
    grid = TariffGrid.objects.get(product=product)
    assert list(grid.lines.values_list("price_cents", flat=True)) == [420]
    assert AuditEntry.objects.filter(action="tariff.grid_published", actor=administrator).exists()


def test_a_future_grid_is_revised_and_withdrawn_through_the_actions(admin_client, administrator):
    product = ProductFactory()
    with time_machine.travel(datetime(2026, 11, 25, 9, 0, tzinfo=PARIS), tick=False):
        grid = publish_tariff_grid(
            actor=administrator,
            product=product,
            valid_from=date(2027, 1, 1),
            lines=[LineInput(price_cents=420)],
        )
        line = grid.lines.get()
        form = {
            **grid_form(product, "2027-02-01", price="450"),
            "lines-INITIAL_FORMS": "1",
            "lines-0-id": line.pk,
            "lines-0-grid": grid.pk,
        }
        url = f"/admin/catalog/tariffgrid/{grid.pk}/"
        assert admin_client.post(url + "change/", form).status_code == 302
        grid.refresh_from_db()
        assert grid.valid_from == date(2027, 2, 1)
        assert list(grid.lines.values_list("price_cents", flat=True)) == [450]
        assert AuditEntry.objects.filter(action="tariff.grid_published").count() == 2
        assert admin_client.post(url + "delete/", {"post": "yes"}).status_code == 302
    assert not TariffGrid.objects.filter(pk=grid.pk).exists()
    assert AuditEntry.objects.get(action="tariff.grid_withdrawn").actor == administrator


def test_an_overlapping_grid_is_refused_on_its_field_and_nothing_is_written(admin_client):
    product = ProductFactory()
    with time_machine.travel(datetime(2026, 11, 25, 9, 0, tzinfo=PARIS), tick=False):
        publish_tariff_grid(
            actor=None,
            product=product,
            valid_from=date(2027, 1, 1),
            valid_until=date(2027, 12, 31),
            lines=[LineInput(price_cents=420)],
        )
        before = AuditEntry.objects.count()
        response = admin_client.post(
            "/admin/catalog/tariffgrid/add/", grid_form(product, "2027-06-01")
        )
    assert response.status_code == 200
    assert "in force from 01/01/2027" in response.context["adminform"].form.errors["valid_from"][0]
    assert TariffGrid.objects.filter(product=product).count() == 1
    assert AuditEntry.objects.count() == before


# --- Régies -----------------------------------------------------------------------------------


def regie_form(**fields) -> dict:
    return {
        "code": "piscines",
        "name": "Régie des piscines",
        "collectivite": "Grand Cahors",
        "address_line1": "72 rue Wilson",
        "address_line2": "",
        "postcode": "46000",
        "city": "Cahors",
        "siret": "20001234500017",
        "email": "",
        "regisseur_name": "",
        "vat_mention": "TVA non applicable, article 293 B du CGI",
        "legal_mentions": "",
        **fields,
    }


def test_a_regie_saved_in_the_admin_is_audited(admin_client, administrator):
    assert admin_client.post("/admin/payments/regie/add/", regie_form()).status_code == 302
    regie = Regie.objects.get(code="piscines")
    changed = admin_client.post(
        f"/admin/payments/regie/{regie.pk}/change/", regie_form(city="Pradines")
    )
    assert changed.status_code == 302
    entries = AuditEntry.objects.filter(action="payments.regie_saved").order_by("pk")
    assert [(e.actor, e.target) for e in entries] == [(administrator, "regie:piscines")] * 2
    assert entries[1].changes == {"city": ["Cahors", "Pradines"]}
    assert admin_client.post(f"/admin/payments/regie/{regie.pk}/delete/").status_code == 403
    # A deletion that reaches the admin without its button is refused too, nothing deleted.
    regie_admin = admin.site._registry[Regie]
    request = RequestFactory().post("/admin/")
    request.user = administrator
    with pytest.raises(PermissionDenied):
        regie_admin.delete_model(request, regie)
    assert Regie.objects.filter(pk=regie.pk).exists()


def test_a_second_wallet_holder_is_refused_on_its_field(admin_client):
    assert (
        admin_client.post("/admin/payments/regie/add/", regie_form(holds_wallets="on")).status_code
        == 302
    )
    response = admin_client.post(
        "/admin/payments/regie/add/", regie_form(code="ecoles", holds_wallets="on")
    )
    assert response.status_code == 200
    assert (
        "holds the wallets already" in response.context["adminform"].form.errors["holds_wallets"][0]
    )
    assert not Regie.objects.filter(code="ecoles").exists()
    assert AuditEntry.objects.filter(action="payments.regie_saved").count() == 1


# --- Readers ----------------------------------------------------------------------------------


def test_a_reader_is_registered_and_revoked_in_the_admin_never_edited_nor_deleted(
    admin_client, administrator
):
    entrance = AccessPointFactory()
    response = admin_client.post(
        "/admin/card/reader/add/",
        {"name": "Tourniquet nord", "kind": "gate", "access_point": entrance.pk},
    )
    assert response.status_code == 302
    reader = Reader.objects.get(name="Tourniquet nord")
    assert reader.token_hash  # issued by register_reader: hashed, shown once
    registered = AuditEntry.objects.get(action="reader.registered")
    assert (registered.actor, registered.target) == (administrator, reader.public_id)
    url = f"/admin/card/reader/{reader.pk}/"
    assert admin_client.post(url + "change/", {"name": "Renamed"}).status_code == 403
    assert admin_client.post(url + "delete/", {"post": "yes"}).status_code == 403
    revoking = admin_client.post(
        "/admin/card/reader/", {"action": "revoke", "_selected_action": [reader.pk]}
    )
    assert revoking.status_code == 302
    reader.refresh_from_db()
    assert reader.revoked_at is not None
    assert AuditEntry.objects.filter(action="reader.revoked", actor=administrator).exists()
