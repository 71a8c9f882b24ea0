"""GET /api/v1/library/members as the library's own system (ILS) calls it each night: a staff
application token, the members valid on a day, the least data, one audit entry per export."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.utils import timezone

from card.models import Card
from identity.actions.api_tokens import revoke_api_token
from identity.models import AuditEntry, Facility, StaffRole
from tests.factories import (
    CardFactory,
    EntitlementFactory,
    FacilityFactory,
    PassFactory,
    PhonePassFactory,
    bearer,
    reader_with_token,
    staff_user,
)
from tests.identity.factories import api_token_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/library/members"
FIELDS = {
    "borrower_number",
    "first_name",
    "last_name",
    "birth_year",
    "membership_valid_until",
    "card_expires_on",
}


@pytest.fixture
def library():
    return FacilityFactory(kind=Facility.Kind.LIBRARY, name="Médiathèque")


@pytest.fixture
def librarian_token(library):
    user = staff_user(StaffRole.Role.LIBRARIAN, facility=library)
    return api_token_for(user, name="SIGB")[1]


def membership(holder, **kwargs):
    kwargs.setdefault("label", "Abonnement médiathèque")
    return PassFactory(holder=holder, facility_kind=Facility.Kind.LIBRARY, **kwargs)


def member_card(**kwargs):
    card = CardFactory(**kwargs)
    membership(card.holder)
    return card


def export(client, token, **params):
    headers = bearer(token) if token else {}
    return client.get(URL, params, headers=headers)


def numbers(response) -> list[str]:
    return [row["borrower_number"] for row in response.json()["members"]]


def test_only_active_cards_of_members_valid_that_day(client, librarian_token):
    today = timezone.localdate()
    valid = member_card()
    expired_membership = CardFactory()
    membership(
        expired_membership.holder,
        valid_from=today - timedelta(days=400),
        valid_until=today - timedelta(days=1),
    )
    not_yet = CardFactory()
    membership(not_yet.holder, valid_from=today + timedelta(days=1))
    revoked = CardFactory()
    membership(revoked.holder, revoked_at=timezone.now())
    suspended = member_card(status=Card.Status.SUSPENDED)
    past_its_date = member_card(expires_on=today - timedelta(days=1))
    pool_only = CardFactory()
    PassFactory(holder=pool_only.holder)
    EntitlementFactory(holder=pool_only.holder)
    no_card = membership(CardFactory(status=Card.Status.REVOKED).holder).holder
    assert not no_card.cards.filter(status=Card.Status.ACTIVE).exists()

    response = export(client, librarian_token)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert numbers(response) == [valid.number]
    assert response.json()["on"] == today.isoformat()
    assert response.json()["next_after"] is None
    excluded = [expired_membership, not_yet, revoked, suspended, past_its_date, pool_only]
    assert not {card.number for card in excluded} & set(numbers(response))


def test_the_day_asked_for_decides(client, librarian_token):
    card = CardFactory()
    membership(card.holder, valid_from=date(2026, 9, 1), valid_until=date(2027, 8, 31))
    assert numbers(export(client, librarian_token, on="2026-08-31")) == []
    assert numbers(export(client, librarian_token, on="2026-09-01")) == [card.number]
    assert numbers(export(client, librarian_token, on="2027-08-31")) == [card.number]
    assert numbers(export(client, librarian_token, on="2027-09-01")) == []


def test_a_card_and_a_phone_pass_are_one_borrower_number_each(client, librarian_token):
    """The desk scans whichever credential the member shows; each must be a known borrower."""
    card = member_card()
    phone = PhonePassFactory(holder=card.holder)
    renewal_until = timezone.localdate() + timedelta(days=700)
    membership(card.holder, valid_until=renewal_until)  # an overlapping renewal: no 2nd row

    rows = export(client, librarian_token).json()["members"]

    assert [row["borrower_number"] for row in rows] == sorted([card.number, phone.number])
    by_number = {row["borrower_number"]: row for row in rows}
    assert by_number[phone.number]["card_expires_on"] is None
    assert by_number[card.number]["card_expires_on"] == card.expires_on.isoformat()
    assert {row["membership_valid_until"] for row in rows} == {renewal_until.isoformat()}


def test_the_least_data_and_nothing_more(client, librarian_token):
    card = member_card()
    holder = card.holder

    response = export(client, librarian_token)

    (row,) = response.json()["members"]
    assert set(row) == FIELDS
    assert row == {
        "borrower_number": card.number,
        "first_name": holder.first_name,
        "last_name": holder.last_name,
        "birth_year": holder.birth_date.year,
        "membership_valid_until": holder.entitlements.get().valid_until.isoformat(),
        "card_expires_on": card.expires_on.isoformat(),
    }
    body = response.content.decode()
    assert holder.user.email not in body
    assert holder.birth_date.isoformat() not in body
    assert "place François Mitterrand" not in body
    assert holder.public_id not in body


def test_a_town_wide_scanning_role_may_export(client, library):
    card = member_card()
    clerk = staff_user(StaffRole.Role.CLERK)
    token = api_token_for(clerk, name="script")[1]
    assert numbers(export(client, token)) == [card.number]


@pytest.mark.parametrize(
    "role", [StaffRole.Role.POOL_AGENT, StaffRole.Role.FINANCE_OFFICER, StaffRole.Role.ADMIN]
)
def test_other_staff_tokens_are_403(client, library, role):
    member_card()
    pool = FacilityFactory(kind=Facility.Kind.POOL)
    user = staff_user(role, facility=pool if role == StaffRole.Role.POOL_AGENT else None)
    token = api_token_for(user, name="script")[1]

    response = export(client, token)

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert not AuditEntry.objects.filter(action="library.members_exported").exists()


def test_a_librarian_role_at_a_pool_is_not_a_library_role(client):
    """No library facility at all: nobody scans cards at one."""
    pool = FacilityFactory(kind=Facility.Kind.POOL)
    user = staff_user(StaffRole.Role.LIBRARIAN, facility=pool)
    token = api_token_for(user, name="SIGB")[1]
    assert export(client, token).status_code == 403


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Bearer ses_unknown_secret"])
def test_no_or_unknown_token_is_401(client, header):
    headers = {"Authorization": header} if header else {}
    assert client.get(URL, headers=headers).status_code == 401


def test_a_revoked_token_is_401(client, library):
    user = staff_user(StaffRole.Role.LIBRARIAN, facility=library)
    token, raw = api_token_for(user, name="SIGB")
    assert export(client, raw).status_code == 200
    revoke_api_token(actor=user, token=token)
    assert export(client, raw).status_code == 401


def test_a_reader_token_is_not_a_staff_token(client):
    _reader, token = reader_with_token()
    assert export(client, token).status_code == 401


@pytest.mark.parametrize("bad", ["2026-13-01", "tomorrow", "25/11/2026", ""])
def test_a_bad_day_is_a_422_naming_on(client, librarian_token, bad):
    response = export(client, librarian_token, on=bad)
    assert response.status_code == 422
    assert any(error["loc"][-1] == "on" for error in response.json()["detail"])
    assert not AuditEntry.objects.filter(action="library.members_exported").exists()


@pytest.mark.parametrize(
    "params", [{"format": "xml"}, {"limit": 0}, {"limit": 100_000}, {"after": "x"}]
)
def test_other_bad_parameters_are_422(client, librarian_token, params):
    assert export(client, librarian_token, **params).status_code == 422


def test_csv_has_the_header_and_the_right_rows(client, librarian_token):
    card = member_card()
    card.holder.last_name = "Lefèvre; dit « Zoé »"
    card.holder.save()
    phone = PhonePassFactory(holder=card.holder)
    CardFactory()  # not a member

    response = export(client, librarian_token, format="csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == [
        "borrower_number",
        "first_name",
        "last_name",
        "birth_year",
        "membership_valid_until",
        "card_expires_on",
    ]
    until = card.holder.entitlements.get().valid_until.isoformat()
    expected = {
        card.number: [
            card.number,
            card.holder.first_name,
            "Lefèvre; dit « Zoé »",
            "1985",
            until,
            card.expires_on.isoformat(),
        ],
        phone.number: [
            phone.number,
            card.holder.first_name,
            "Lefèvre; dit « Zoé »",
            "1985",
            until,
            "",
        ],
    }
    assert rows[1:] == [expected[number] for number in sorted(expected)]


def test_pages_follow_each_other_by_card_number(client, librarian_token):
    cards = [member_card() for _ in range(5)]
    expected = sorted(card.number for card in cards)

    first = export(client, librarian_token, limit=2).json()
    second = export(client, librarian_token, limit=2, after=first["next_after"]).json()
    third = export(client, librarian_token, limit=2, after=second["next_after"]).json()

    seen = [row["borrower_number"] for page in (first, second, third) for row in page["members"]]
    assert seen == expected
    assert first["next_after"] == expected[1]
    assert third["next_after"] is None


def test_one_audit_entry_per_export(client, library):
    user = staff_user(StaffRole.Role.LIBRARIAN, facility=library)
    token = api_token_for(user, name="SIGB")[1]
    member_card()
    member_card()
    before = AuditEntry.objects.count()

    today = timezone.localdate().isoformat()
    export(client, token, on=today)
    export(client, token, format="csv")

    entries = list(AuditEntry.objects.order_by("pk")[before:])
    assert [entry.action for entry in entries] == ["library.members_exported"] * 2
    assert {entry.actor_id for entry in entries} == {user.pk}
    assert {entry.channel for entry in entries} == {AuditEntry.Channel.API}
    assert [entry.target for entry in entries] == [
        f"2 members on {today} (json)",
        f"2 members on {today} (csv)",
    ]
    assert entries[0].person is None
    assert entries[0].household is None


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_the_query_count_does_not_grow_with_members(
    client, librarian_token, django_assert_max_num_queries, fmt
):
    for n in range(50):
        card = member_card()
        if n % 5 == 0:
            PhonePassFactory(holder=card.holder)
    export(client, librarian_token)  # the token's last-use stamp, written once per 5 minutes

    # token, roles, library facilities, members, audit entry: five, whatever the members
    with django_assert_max_num_queries(6):
        response = export(client, librarian_token, format=fmt, limit=5000)
    assert response.status_code == 200
    if fmt == "json":
        assert len(response.json()["members"]) == 60
    else:
        assert len(response.content.decode().splitlines()) == 61


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1899-12-31"])
def test_a_day_out_of_range_is_a_422_naming_the_field(librarian_token, day):
    from django.test import Client

    response = export(Client(raise_request_exception=False), librarian_token, on=day)
    assert response.status_code == 422
    assert "on" in [error["loc"][-1] for error in response.json()["detail"]]
    assert not AuditEntry.objects.filter(action__startswith="library").exists()
