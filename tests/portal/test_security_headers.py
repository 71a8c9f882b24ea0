"""Security headers on every page each demo role reaches (and the anonymous visitor's), as the
browser gets them over HTTPS: a Content-Security-Policy without `unsafe-inline` (so no inline
script, style or event handler in any page either), HSTS, no framing, a Referrer-Policy and a
Permissions-Policy. And the reverse proxy's headers believed from a trusted proxy only."""

import re

import pytest
from django.test import Client

from tests.portal.demo_site import ROLES, crawl, load_demo, log_in

from .test_site import _import_settings

pytestmark = pytest.mark.django_db

HOMES = {"resident": ["/mon-espace/"], "admin": ["/agents/", "/admin/"], "anonymous": ["/"]}
ANONYMOUS_PAGES = [
    "/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/no-such-page/",
]
INLINE = [
    (re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>\s*\S", re.I), "inline script"),
    (re.compile(r"<style\b", re.I), "style element"),
    (re.compile(r"""\sstyle\s*=\s*["']""", re.I), "style attribute"),
    (re.compile(r"""\son[a-z]+\s*=\s*["']""", re.I), "event handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: address"),
]


def header_problems(response) -> list[str]:
    problems = []
    csp = {
        directive.split()[0]: directive.split()[1:]
        for directive in response.get("Content-Security-Policy", "").split(";")
        if directive.strip()
    }
    for directive in ("script-src", "style-src", "default-src"):
        sources = csp.get(directive) or csp.get("default-src")
        if not sources:
            problems.append(f"CSP has no {directive}")
        elif "'unsafe-inline'" in sources or "'unsafe-eval'" in sources:
            problems.append(f"CSP {directive} allows unsafe sources: {sources}")
    if csp.get("frame-ancestors") != ["'none'"]:
        problems.append(f"CSP frame-ancestors is {csp.get('frame-ancestors')}")
    hsts = response.get("Strict-Transport-Security", "")
    if not re.fullmatch(r"max-age=(\d+).*", hsts) or int(hsts.split("=")[1].split(";")[0]) < (
        180 * 24 * 3600
    ):
        problems.append(f"HSTS is {hsts!r}")
    expected = {
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
    }
    for name, value in expected.items():
        if response.get(name) != value:
            problems.append(f"{name} is {response.get(name)!r}")
    policy = response.get("Permissions-Policy", "")
    for feature in ("geolocation=()", "microphone=()", "camera=(self)"):
        if feature not in policy:
            problems.append(f"Permissions-Policy lacks {feature}: {policy!r}")
    return problems


def inline_problems(html: str) -> list[str]:
    return [what for pattern, what in INLINE if pattern.search(html)]


def https_client() -> Client:
    """A browser over HTTPS, behind nginx (a trusted proxy on the same machine)."""
    return Client(REMOTE_ADDR="127.0.0.1", headers={"X-Forwarded-Proto": "https"})


def crawl_recording(client, role: str):
    """The pages `role` reaches, and every answer it got on the way."""
    answers = {}
    get = client.get

    def recording_get(path, *args, **kwargs):
        answers[path] = response = get(path, *args, **kwargs)
        return response

    client.get = recording_get
    pages = crawl(client, HOMES.get(role, ["/agents/"]))
    return pages, answers


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_every_page_a_role_reaches_sends_the_security_headers(role):
    client = https_client()
    if role != "anonymous":
        log_in(client, load_demo()[ROLES[role]])
    pages, answers = crawl_recording(client, role)
    if role == "anonymous":
        for path in ANONYMOUS_PAGES:
            answers[path] = client.get(path)
    assert len(answers) >= (5 if role != "resident" else 20)
    problems = {path: found for path, r in answers.items() if (found := header_problems(r))}
    assert problems == {}
    inline = {path: found for path, html in pages.items() if (found := inline_problems(html))}
    assert inline == {}


def test_the_checks_catch_what_they_look_for():
    assert inline_problems(
        '<p style="color:red" onclick="go()">x</p><script>alert(1)</script><style>p{}</style>'
        '<a href="javascript:go()">x</a>'
    ) == [
        "inline script",
        "style element",
        "style attribute",
        "event handler attribute",
        "javascript: address",
    ]
    assert inline_problems('<script src="/static/x.js"></script><p data-style="x">y</p>') == []
    assert "HSTS is ''" in header_problems(Client().get("/"))  # plain HTTP: no HSTS


def test_plain_http_is_sent_to_https_except_the_probes(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/mon-espace/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/mon-espace/"
    assert client.get("/healthz").status_code == 200


def test_hsts_only_in_production():
    code = "import portal.settings as s; print(s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT)"
    keys = {
        "SECRET_KEY": "a-real-secret-from-the-environment",
        "SESAME_CARD_MASTER_KEY": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "SESAME_VAULT_MASTER_KEY": "ab" * 32,
    }
    assert _import_settings(DEBUG="1", code=code).stdout.split() == ["0", "False"]
    assert _import_settings(DEBUG="0", code=code, **keys).stdout.split() == ["31536000", "True"]


# --- The client's address and scheme, from the reverse proxy -----------------------------------


def seen_by_django(client, **headers):
    response = client.get("/healthz", headers=headers)
    return response.wsgi_request.META["REMOTE_ADDR"], response.wsgi_request.is_secure()


def test_a_trusted_proxy_gives_the_client_address_and_scheme(settings):
    settings.SESAME_TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]
    client = Client(REMOTE_ADDR="127.0.0.1")
    assert seen_by_django(client, **{"X-Forwarded-For": "198.51.100.4"}) == ("198.51.100.4", False)
    assert seen_by_django(client, **{"X-Forwarded-Proto": "https"}) == ("127.0.0.1", True)
    # A client writing its own X-Forwarded-For: the right-most untrusted hop is the client.
    forged = {"X-Forwarded-For": "1.2.3.4, 198.51.100.4, 10.1.2.3"}
    assert seen_by_django(client, **forged) == ("198.51.100.4", False)


def test_anyone_else_cannot_claim_an_address_or_https(settings):
    settings.SESAME_TRUSTED_PROXIES = ["127.0.0.1"]
    client = Client(REMOTE_ADDR="203.0.113.9")
    spoofed = {"X-Forwarded-For": "198.51.100.4", "X-Forwarded-Proto": "https"}
    assert seen_by_django(client, **spoofed) == ("203.0.113.9", False)
