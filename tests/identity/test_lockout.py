"""Repeated login failures lock the account for a while and mail its owner; the owner can still
reset their password, and the reset unlocks it. Both are in the audit trail."""

import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from identity.models import AuditEntry
from tests.factories import PASSWORD, ResidentFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Nouveau-mot-de-passe-2026"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.SESAME_LOGIN_LOCK_FAILURES = 3
    settings.SESAME_LOGIN_FAILURE_WINDOW = 15 * 60
    settings.SESAME_LOGIN_LOCK_SECONDS = 30 * 60


def log_in(client, email, password):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail(client, email, times):
    for _ in range(times):
        response = log_in(client, email, "wrong-password-1234")
        assert response.status_code == 200


def test_failures_below_the_limit_lock_nothing(client):
    UserFactory(email="camille@example.org")
    fail(client, "camille@example.org", 2)
    assert log_in(client, "camille@example.org", PASSWORD).status_code == 302
    assert logged_in(client)
    assert not mail.outbox


def test_a_successful_login_clears_the_count(client):
    UserFactory(email="camille@example.org")
    fail(client, "camille@example.org", 2)
    assert log_in(client, "camille@example.org", PASSWORD).status_code == 302
    client.logout()
    fail(client, "camille@example.org", 2)
    assert log_in(client, "camille@example.org", PASSWORD).status_code == 302


def test_the_limit_locks_the_account_even_for_the_right_password_and_mails_the_owner(client):
    resident = ResidentFactory(user=UserFactory(email="camille@example.org"))
    fail(client, "camille@example.org", 3)

    response = log_in(client, "camille@example.org", PASSWORD)
    assert response.status_code == 200
    assert not logged_in(client)
    page = response.content.decode()
    assert "bloquée" in page
    assert "30" in page

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["camille@example.org"]
    assert "3 fois" in message.body
    assert "/accounts/password/reset/" in message.body
    entry = AuditEntry.objects.get(action="account.locked")
    assert entry.person == resident
    assert entry.actor is None


def test_the_lock_wears_off(client):
    UserFactory(email="camille@example.org")
    with time_machine.travel("2026-03-02 10:00 +01:00", tick=False) as traveller:
        fail(client, "camille@example.org", 3)
        assert log_in(client, "camille@example.org", PASSWORD).status_code == 200
        traveller.shift(31 * 60)
        assert log_in(client, "camille@example.org", PASSWORD).status_code == 302


def test_an_unknown_email_locks_the_same_way_without_mail_or_trail(client):
    fail(client, "personne@example.org", 3)
    page = log_in(client, "personne@example.org", PASSWORD).content.decode()
    assert "bloquée" in page
    assert not mail.outbox
    assert not AuditEntry.objects.filter(action="account.locked").exists()


def test_the_lock_is_per_account(client):
    UserFactory(email="camille@example.org")
    UserFactory(email="alex@example.org")
    fail(client, "camille@example.org", 3)
    assert log_in(client, "alex@example.org", PASSWORD).status_code == 302


def test_a_locked_owner_resets_their_password_and_the_reset_unlocks(client):
    user = UserFactory(email="camille@example.org")
    fail(client, "camille@example.org", 3)
    mail.outbox.clear()

    client.post(reverse("account_reset_password"), {"email": "camille@example.org"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    action = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    response = client.post(action, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302

    assert log_in(client, "camille@example.org", NEW_PASSWORD).status_code == 302
    assert logged_in(client)
    unlocked = AuditEntry.objects.get(action="account.unlocked")
    assert unlocked.actor == user


def test_the_admin_login_goes_through_the_same_login(client):
    """The admin's own password form would skip the second factor and the lock."""
    response = client.get("/admin/login/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_without_a_cache_logins_go_on_without_the_lock(client, monkeypatch, caplog, settings):
    """Redis down must not take the login page down: the lock is skipped, and the log says so
    (allauth's own limits are left out here: they need the cache)."""
    from django.core.cache import cache
    from redis.exceptions import ConnectionError as RedisConnectionError

    UserFactory(email="camille@example.org")
    settings.ACCOUNT_RATE_LIMITS = False

    def unreachable(*args, **kwargs):
        raise RedisConnectionError("Redis is down")

    for name in ("get", "add", "incr", "delete"):
        monkeypatch.setattr(cache, name, unreachable)
    fail(client, "camille@example.org", 4)
    assert log_in(client, "camille@example.org", PASSWORD).status_code == 302
    assert "login lock skipped" in caplog.text
