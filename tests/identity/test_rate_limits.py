"""Rate limits: allauth's on login, sign-up and password reset, identity.ratelimit on the rest;
each a 429 in French with Retry-After, counted per client address and per account."""

import pytest
import time_machine
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from redis.exceptions import ConnectionError as RedisConnectionError

from identity.ratelimit import Rate, rate_limited
from portal.middleware import TrustedProxyMiddleware
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ELSEWHERE = {"REMOTE_ADDR": "192.0.2.99"}


def test_rates_are_written_like_allauths():
    assert Rate.parse("30/m") == Rate(30, 60)
    assert Rate.parse("5/15m") == Rate(5, 900)
    assert Rate.parse("100/h") == Rate(100, 3600)
    with pytest.raises(ValueError, match="Not a rate"):
        Rate.parse("30 per minute")


def test_a_typo_in_a_rate_fails_when_the_module_is_imported():
    with pytest.raises(ValueError, match="Not a rate"):
        rate_limited("test.typo", per_address="10/minute")


def test_a_public_page_answers_429_in_french_with_retry_after_then_lets_through_again(client):
    with time_machine.travel("2026-03-02 10:00:10 +01:00", tick=False) as traveller:
        for _ in range(60):
            assert client.get(reverse("card:tapped")).status_code == 400  # not a card's link
        refused = client.get(reverse("card:tapped"))
        assert refused.status_code == 429
        assert 1 <= int(refused["Retry-After"]) <= 60
        assert "Trop de tentatives" in refused.content.decode()
        # Another address is counted on its own.
        assert client.get(reverse("card:tapped"), **ELSEWHERE).status_code == 400
        traveller.shift(int(refused["Retry-After"]))
        assert client.get(reverse("card:tapped")).status_code == 400


def test_a_public_api_route_answers_a_json_429(client):
    # Frozen: on a loaded machine the 121 calls could straddle two of the limit's minutes.
    with time_machine.travel("2026-03-02 10:00:10 +01:00", tick=False):
        for _ in range(120):
            assert client.get("/api/v1/territory/communes").status_code == 200
        refused = client.get("/api/v1/territory/communes")
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert "Réessayez" in refused.json()["message"]
    assert int(refused["Retry-After"]) >= 1


def test_the_kiosk_pairing_code_cannot_be_guessed_fast(client):
    url = reverse("kiosk:pair", kwargs={"code": "guess"})
    for _ in range(10):
        assert client.post(url).status_code == 400
    assert client.post(url).status_code == 429
    assert client.get(url).status_code == 200  # the confirmation page spends nothing


def test_per_account_counts_the_account_whatever_the_address():
    @rate_limited("test.per_account", per_account="2/m")
    def view(request):
        return HttpResponse("ok")

    user = UserFactory()
    factory = RequestFactory()
    statuses = []
    for address in ["192.0.2.1", "192.0.2.2", "192.0.2.3"]:
        request = factory.get("/api/v1/anything", REMOTE_ADDR=address)
        request.user = user
        statuses.append(view(request).status_code)
    assert statuses == [200, 200, 429]


def test_a_cache_that_cannot_be_reached_lets_requests_through(monkeypatch, caplog):
    @rate_limited("test.cache_down", per_address="1/m")
    def view(request):
        return HttpResponse("ok")

    def unreachable(*args, **kwargs):
        raise RedisConnectionError("Redis is down")

    monkeypatch.setattr(cache, "add", unreachable)
    request = RequestFactory().get("/")
    assert [view(request).status_code for _ in range(3)] == [200, 200, 200]
    assert "not counted" in caplog.text


def test_allauth_login_is_limited_per_address_with_the_same_french_page(client):
    for _ in range(30):
        client.post(reverse("account_login"), {"login": "x@example.org", "password": "nope-1234"})
    refused = client.post(
        reverse("account_login"), {"login": "y@example.org", "password": "nope-1234"}
    )
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert "Trop de tentatives" in refused.content.decode()


def test_password_reset_requests_are_limited_per_email(client):
    UserFactory(email="camille@example.org")
    for _ in range(5):
        client.post(reverse("account_reset_password"), {"email": "camille@example.org"})
    refused = client.post(reverse("account_reset_password"), {"email": "camille@example.org"})
    assert refused.status_code == 429


def test_sign_up_is_limited_per_address(client):
    for n in range(20):
        client.post(reverse("account_signup"), {"email": f"new{n}@example.org"})
    assert client.post(reverse("account_signup"), {"email": "one@example.org"}).status_code == 429


def test_behind_a_proxy_each_visitor_is_counted_at_their_own_address(settings):
    settings.SESAME_TRUSTED_PROXIES = ["127.0.0.1"]

    @rate_limited("test.behind_proxy", per_address="1/m")
    def limited(request):
        return HttpResponse("ok")

    view = TrustedProxyMiddleware(limited)  # as in the site's middleware

    factory = RequestFactory()

    def through_the_proxy(client):
        return factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=client)

    assert view(through_the_proxy("198.51.100.1")).status_code == 200
    assert view(through_the_proxy("198.51.100.2")).status_code == 200
    assert view(through_the_proxy("198.51.100.1")).status_code == 429
