"""Each demo account logs in the way a person would (password, then the code of their
authenticator for staff) and sees what its role allows, and nothing more."""

import pytest
from django.urls import reverse

from identity import demo
from identity.models import AuditEntry, Household, Person
from tests.portal.demo_site import log_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts():
    return {account.email: account for account in demo.load()}


def martin_household() -> Household:
    return Person.objects.get(user__email=demo.RESIDENT_EMAIL).household


def test_the_demo_has_every_role_and_loads_twice_without_duplicates(accounts):
    assert len(accounts) == 8
    assert len(demo.load()) == 8
    assert Household.objects.count() == 1


def test_the_resident_parent_sees_their_household_and_no_staff_page(client, accounts):
    log_in(client, accounts[demo.RESIDENT_EMAIL])
    home = client.get(reverse("portal:home"))
    assert home.status_code == 200
    page = home.content.decode()
    for name in ["Camille", "Alex", "Léa", "Tom", "850"]:
        assert name in page
    assert client.get(reverse("portal:staff_home")).status_code == 403
    assert client.get(reverse("identity:staff_search")).status_code == 403
    file_url = reverse("identity:staff_file", args=[martin_household().public_id])
    assert client.post(file_url, {"reason": "counter"}).status_code == 403
    assert client.get("/admin/").status_code == 302  # to the admin login, not in


@pytest.mark.parametrize(
    "email",
    [
        "agent.piscine@demo.sesame.fr",
        "bibliotheque@demo.sesame.fr",
        "cantine@demo.sesame.fr",
        "direction.lucie-aubrac@demo.sesame.fr",
        "regisseur@demo.sesame.fr",
        "admin@demo.sesame.fr",
    ],
)
def test_staff_other_than_clerks_cannot_see_residents(client, accounts, email):
    log_in(client, accounts[email])
    assert client.get(reverse("portal:staff_home")).status_code == 200
    assert client.get(reverse("identity:staff_search")).status_code == 403
    file_url = reverse("identity:staff_file", args=[martin_household().public_id])
    assert client.post(file_url, {"reason": "counter"}).status_code == 403
    assert not AuditEntry.objects.filter(action="staff.file_viewed").exists()
    # Staff with no household of their own have no Mon espace: they land on the back office.
    assert client.get(reverse("portal:home")).url == reverse("portal:staff_home")


def test_the_clerk_finds_and_opens_a_file_and_the_resident_sees_it(client, accounts):
    log_in(client, accounts["accueil@demo.sesame.fr"])
    results = client.post(reverse("identity:staff_search"), {"q": "Martin", "reason": "counter"})
    assert "Camille" in results.content.decode()
    file_url = reverse("identity:staff_file", args=[martin_household().public_id])
    before = client.get(file_url)
    assert "Alex" not in before.content.decode()  # nothing shown before a reason is given
    opened = client.post(file_url, {"reason": "counter"})
    assert "Alex" in opened.content.decode()

    client.logout()
    log_in(client, accounts[demo.RESIDENT_EMAIL])
    log_page = client.get(reverse("identity:file_accesses")).content.decode()
    assert "Paul" in log_page  # the clerk's first name, role and reason; nothing more
    assert "accueil@demo.sesame.fr" not in log_page


def test_the_administrator_reaches_the_django_admin(client, accounts):
    log_in(client, accounts["admin@demo.sesame.fr"])
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/identity/staffrole/").status_code == 200


@pytest.mark.parametrize(
    ("email", "links", "absent"),
    [
        (
            "agent.piscine@demo.sesame.fr",
            ["card:desk_list", "card:offline_taps"],
            ["identity:staff_search", "card:clerk_home"],
        ),
        (
            "accueil@demo.sesame.fr",
            ["card:desk_list", "identity:staff_search", "card:clerk_home"],
            ["card:offline_taps"],
        ),
        ("regisseur@demo.sesame.fr", [], ["card:desk_list", "card:clerk_home"]),
        (
            "direction.lucie-aubrac@demo.sesame.fr",
            ["schools:head_list"],
            ["card:desk_list", "identity:staff_search", "canteen:kitchen_days"],
        ),
    ],
)
def test_the_staff_home_links_to_what_the_role_may_do(client, accounts, email, links, absent):
    log_in(client, accounts[email])
    page = client.get(reverse("portal:staff_home")).content.decode()
    for name in links:
        assert f'href="{reverse(name)}"' in page
    for name in absent:
        assert f'href="{reverse(name)}"' not in page
