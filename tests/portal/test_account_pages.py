"""Accounts as their people meet them: sign-up asks their names and, once the address is
confirmed, leads into Mon espace with the names already filled in; messages and mails name
the person (never `user#8`) and carry the territory's name; Mon compte gathers the email
addresses, the password and the second factor on one page."""

import re

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse

from identity.models import User
from tests.factories import PASSWORD, ResidentFactory, StaffRoleFactory, UserFactory, with_totp

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


def sign_up(client, **fields):
    return client.post(
        reverse("account_signup"),
        {
            "first_name": "Camille",
            "last_name": "Martin",
            "email": "camille@example.org",
            "password1": "Une-phrase-longue-2026",
            "password2": "Une-phrase-longue-2026",
            **fields,
        },
    )


def test_sign_up_asks_the_names_first(client):
    page = client.get(reverse("account_signup")).content.decode()
    names = [page.index('name="first_name"'), page.index('name="last_name"')]
    assert names == sorted(names)
    assert names[1] < page.index('name="email"')
    refused = sign_up(client, first_name="", last_name="")
    assert refused.status_code == 200
    assert not User.objects.exists()


def test_the_confirmation_mail_names_the_person_and_the_territory(client):
    assert sign_up(client).status_code == 302
    user = User.objects.get()
    assert (user.first_name, user.last_name) == ("Camille", "Martin")
    (message,) = mail.outbox
    assert message.subject.startswith("[Sésame Grand Cahors] ")
    assert message.body.startswith("Bonjour,")
    assert "au nom de Camille Martin" in message.body
    assert "L’équipe Sésame de Grand Cahors" in message.body
    assert "user#" not in message.body
    assert "c'est  !" not in message.body


def test_once_confirmed_the_person_is_in_mon_espace_with_their_names(client):
    sign_up(client)
    link = re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[0].body).group(1)
    confirm_page = client.get(link).content.decode()
    assert "Camille Martin" in confirm_page
    assert "user#" not in confirm_page
    confirmed = client.post(link, follow=True)
    assert confirmed.redirect_chain[-1][0] == reverse("identity:onboarding")
    page = confirmed.content.decode()
    assert 'value="Camille"' in page
    assert 'value="Martin"' in page
    said = [str(m) for m in get_messages(confirmed.wsgi_request)]
    assert not [m for m in said if "user#" in m]


def test_the_login_message_names_the_person(client):
    resident = ResidentFactory(first_name="Camille", last_name="Martin")
    response = client.post(
        reverse("account_login"), {"login": resident.user.email, "password": PASSWORD}, follow=True
    )
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said == ["Connexion avec Camille Martin réussie."]
    assert "Connexion avec Camille Martin réussie." in response.content.decode()


def test_an_account_is_named_by_its_person_then_its_names_then_its_email():
    resident = ResidentFactory(first_name="Léa", last_name="Martin")
    assert str(resident.user) == "Léa Martin"
    assert str(resident) == "Léa Martin"
    staff = UserFactory(first_name="Paul", last_name="")
    assert str(staff) == "Paul"
    nameless = UserFactory(first_name="", last_name="")
    assert str(nameless) == nameless.email


def test_mon_compte_gathers_addresses_password_and_second_factor(client):
    resident = ResidentFactory(first_name="Camille", last_name="Martin")
    client.force_login(resident.user)
    page = client.get(reverse("portal:account")).content.decode()
    assert resident.user.email in page
    assert "Adresse de connexion" in page
    assert "Confirmée" in page
    assert f'action="{reverse("account_change_password")}"' in page
    assert 'name="oldpassword"' in page
    assert reverse("mfa_activate_totp") in page
    assert "Mon compte" in page
    assert "user#" not in page


def test_the_password_changed_from_mon_compte_comes_back_to_it(client):
    resident = ResidentFactory()
    client.force_login(resident.user)
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": "Un-nouveau-mot-de-passe-2027",
            "password2": "Un-nouveau-mot-de-passe-2027",
            "next": reverse("portal:account"),
        },
    )
    assert response.url == reverse("portal:account")
    resident.user.refresh_from_db()
    assert resident.user.check_password("Un-nouveau-mot-de-passe-2027")


def test_a_staff_member_sees_their_second_factor_on(client):
    user = StaffRoleFactory().user
    with_totp(user)
    client.force_login(user)
    page = client.get(reverse("portal:account")).content.decode()
    assert "Les comptes des agents utilisent toujours une double authentification" in page
    assert reverse("mfa_deactivate_totp") in page


def test_the_header_leads_to_mon_compte_only_once(client):
    client.force_login(ResidentFactory().user)
    page = client.get(reverse("portal:home")).content.decode()
    header = page.split("</header>")[0]
    assert header.count(f'href="{reverse("portal:account")}"') == 1
    assert reverse("mfa_index") not in header
