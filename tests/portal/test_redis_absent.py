"""Redis absent or gone: the site still answers, rate limits and the cache fall back to the
process's memory (portal.cache), and Redis is used again once it is back. A redis-server of the
test's own is started and killed (the shared one is never touched)."""

import logging
import socket
import subprocess
import time

import pytest
import redis
from django.core.cache import caches
from django.urls import reverse

from portal import cache as fallback_cache
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _use_redis_at(settings, port: int) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "portal.cache.RedisWithFallbackCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        }
    }


@pytest.fixture
def own_redis():
    """A redis-server on a free port, in memory only; yields a function that (re)starts it."""
    port = _free_port()
    servers = []

    def start() -> subprocess.Popen:
        server = subprocess.Popen(  # noqa: S603 - Debian's redis-server, arguments written here
            ["/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        servers.append(server)
        client = redis.Redis(port=port)
        for _ in range(50):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        return server

    start.port = port
    yield start
    for server in servers:
        server.kill()
        server.wait()


def test_with_redis_nowhere_pages_answer_and_login_failures_are_still_limited(
    settings, client, in_english, caplog
):
    _use_redis_at(settings, _free_port())  # nothing listens there
    resident = ResidentFactory()
    assert client.get(reverse("landing")).status_code == 200
    answers = []
    with caplog.at_level(logging.WARNING, logger="portal.cache"):
        for _ in range(12):
            response = client.post(
                reverse("account_login"), {"login": resident.user.email, "password": "wrong"}
            )
            page = response.content.decode()
            # allauth's limit per address, or the lock of the account (identity.actions.lockout)
            limited = "Too many failed login attempts" in page or "is blocked for" in page
            answers.append((response.status_code, limited))
    assert all(status < 500 for status, _limited in answers), answers
    # The limits on failed logins still apply, counted in this process.
    assert not answers[0][1]
    assert answers[-1][1]
    warnings = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
    assert len(warnings) == 1  # said once, not on every request
    assert resident.user.email not in caplog.text


def test_redis_killed_then_back_the_cache_falls_back_then_returns(settings, own_redis, monkeypatch):
    monkeypatch.setattr(fallback_cache, "RETRY_AFTER", 0.3)
    server = own_redis()
    _use_redis_at(settings, own_redis.port)
    cache = caches["default"]
    cache.set("shared", "in redis")
    assert redis.Redis(port=own_redis.port).exists(cache.make_and_validate_key("shared"))

    server.kill()
    server.wait()
    assert cache.get("shared") is None  # Redis's values are out of reach, not an error
    cache.set("local", "in memory")
    assert cache.get("local") == "in memory"
    assert cache.redis_is_down

    own_redis()
    time.sleep(0.4)
    cache.set("shared", "in redis again")
    assert not cache.redis_is_down
    assert redis.Redis(port=own_redis.port).get(cache.make_and_validate_key("shared"))
