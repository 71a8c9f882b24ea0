"""A resident signs up with a verified email, logs in, resets a forgotten password and lands on
Mon espace; staff must use a second factor."""

import re
import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail
from django.urls import reverse

from identity.models import Person, StaffRole
from tests.factories import (
    PASSWORD,
    CommuneFactory,
    ResidentFactory,
    UserFactory,
    staff_user,
    with_totp,
)

pytestmark = pytest.mark.django_db


def link_in(message) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def test_sign_up_verify_the_email_and_complete_the_profile(client):
    commune = CommuneFactory(name="Cahors")
    response = client.post(
        reverse("account_signup"),
        {
            "first_name": "Camille",
            "last_name": "Martin",
            "email": "camille@example.org",
            "password1": "Une-phrase-longue-2026",
            "password2": "Une-phrase-longue-2026",
        },
    )
    assert response.status_code == 302
    # Unverified: no way into Mon espace yet.
    assert not client.get(reverse("portal:home")).wsgi_request.user.is_authenticated
    assert len(mail.outbox) == 1
    confirm = link_in(mail.outbox[0])
    assert client.post(confirm).status_code == 302

    response = client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response.url == reverse("identity:onboarding")
    response = client.post(
        reverse("identity:onboarding"),
        {
            "first_name": "Camille",
            "last_name": "Martin",
            "birth_date": "1986-04-12",
            "line1": "12 rue du Château du Roi",
            "line2": "",
            "postcode": "46000",
            "commune": commune.pk,
            "moved_in": "2019-09-01",
        },
    )
    assert response.status_code == 302
    home = client.get(reverse("portal:home"))
    assert home.status_code == 200
    assert "Camille" in home.content.decode()
    person = Person.objects.get(user__email="camille@example.org")
    assert person.household.addresses.get().commune == commune


def test_onboarding_errors_are_shown_next_to_the_field_and_nothing_is_written(client):
    client.force_login(UserFactory())
    response = client.post(
        reverse("identity:onboarding"),
        {
            "first_name": "Léa",
            "last_name": "Martin",
            "birth_date": "2015-06-21",
            "line1": "1 rue X",
            "postcode": "46000",
            "commune": CommuneFactory().pk,
            "moved_in": "2020-01-01",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["birth_date"]
    assert not Person.objects.exists()


def test_log_in_with_email_and_password(client):
    user = UserFactory(email="paul@example.org")
    response = client.post(
        reverse("account_login"), {"login": "paul@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_reset_a_forgotten_password(client):
    UserFactory(email="oubli@example.org")
    client.post(reverse("account_reset_password"), {"email": "oubli@example.org"})
    assert len(mail.outbox) == 1
    reset_link = link_in(mail.outbox[0])
    form_page = client.get(reset_link, follow=True)
    action = form_page.redirect_chain[-1][0] if form_page.redirect_chain else reset_link
    response = client.post(
        action, {"password1": "Nouveau-mot-de-passe-2026", "password2": "Nouveau-mot-de-passe-2026"}
    )
    assert response.status_code == 302
    client.logout()
    response = client.post(
        reverse("account_login"),
        {"login": "oubli@example.org", "password": "Nouveau-mot-de-passe-2026"},
    )
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


class TestStaffSecondFactor:
    def test_a_staff_account_without_second_factor_can_only_set_one_up(self, client):
        clerk = staff_user(StaffRole.Role.CLERK, second_factor=False)
        client.force_login(clerk)
        response = client.get(reverse("identity:staff_search"))
        assert response.status_code == 302
        assert response.url == reverse("mfa_activate_totp")
        assert client.get("/api/v1/me").status_code == 403

    def test_staff_login_asks_for_the_code_and_accepts_the_right_one(self, client):
        agent = UserFactory(email="agent@example.org")
        StaffRole.objects.create(user=agent, role=StaffRole.Role.POOL_AGENT)
        secret = with_totp(agent)
        response = client.post(
            reverse("account_login"), {"login": "agent@example.org", "password": PASSWORD}
        )
        assert response.url == reverse("mfa_authenticate")
        assert "_auth_user_id" not in client.session
        wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
        assert wrong.status_code == 200
        assert "_auth_user_id" not in client.session
        code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
        client.post(reverse("mfa_authenticate"), {"code": code})
        assert client.session["_auth_user_id"] == str(agent.pk)
        assert client.get(reverse("portal:staff_home")).status_code == 200


def test_a_resident_is_not_asked_for_a_second_factor(client):
    resident = ResidentFactory()
    client.force_login(resident.user)
    assert client.get(reverse("portal:home")).status_code == 200
