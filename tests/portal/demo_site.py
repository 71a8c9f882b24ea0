"""The demo as its people meet it: the whole demo loaded (`make run`'s data), a demo account
logged in the way a person does (password, then the authenticator's code for staff), and the
pages each role reaches from its home, followed link by link (GET only)."""

import re
import time
from collections import deque
from html.parser import HTMLParser
from io import StringIO
from urllib.parse import urljoin, urlsplit

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from identity import demo

# Each role of the demo: its account and where it lands.
ROLES = {
    "resident": demo.RESIDENT_EMAIL,
    "pool_agent": "agent.piscine@demo.sesame.fr",
    "librarian": "bibliotheque@demo.sesame.fr",
    "canteen_agent": "cantine@demo.sesame.fr",
    "school_head": "direction.lucie-aubrac@demo.sesame.fr",
    "clerk": "accueil@demo.sesame.fr",
    "finance_officer": "regisseur@demo.sesame.fr",
    "admin": demo.ADMIN_EMAIL,
}


def load_demo() -> dict[str, demo.DemoAccount]:
    """Everything `make run` loads (identity, catalogue, waste bags, payments, readers)."""
    with override_settings(DEBUG=True):
        call_command("load_demo", stdout=StringIO())
    return {account.email: account for account in demo.accounts()}


def current_code(secret: str, *, margin: float = 3) -> str:
    """The authenticator's code, taken at least `margin` seconds before it changes: allauth
    accepts only the current 30-second window's code, and the form takes a moment to post."""
    if 30 - time.time() % 30 < margin:
        time.sleep(30 - time.time() % 30 + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def log_in(client, account: demo.DemoAccount):
    """The login form, then the second factor's form for staff."""
    response = client.post(
        reverse("account_login"), {"login": account.email, "password": demo.DEMO_PASSWORD}
    )
    if account.totp_secret:
        assert response.url == reverse("mfa_authenticate")
        response = client.post(
            reverse("mfa_authenticate"), {"code": current_code(account.totp_secret)}
        )
    assert response.status_code == 302
    assert "_auth_user_id" in client.session
    return response


# Links not followed: files, what only a browser or a device uses, and the admin's sorting,
# filtering and per-object pages (its index and lists are enough to read its words).
NOT_FOLLOWED = re.compile(
    r"(\.pdf$|\.csv$|[?&]format=|/static/|/media/|/cartes/photo/|/api/|/i18n/|/borne/"
    r"|personnalisation|/download/|/admin/.*[?]|/admin/\w+/\w+/.+|/admin/(logout|password_change)/)"
)


def crawl(client, start: list[str], *, limit: int = 80) -> dict[str, str]:
    """The HTML pages reachable from `start` through internal links, GET only: {url: html}.
    Every page answers 200 or redirects somewhere internal."""
    pages: dict[str, str] = {}
    queue, seen = deque(start), set(start)
    while queue and len(pages) < limit:
        url = queue.popleft()
        response = client.get(url)
        assert response.status_code in (200, 302), f"{url} answered {response.status_code}"
        if response.status_code == 302:
            targets = [response.url]
        elif not response.get("Content-Type", "").startswith("text/html"):
            continue
        else:
            html = response.content.decode()
            pages[url] = html
            targets = re.findall(r'<a\b[^>]*\bhref="([^"#]*)', html)
        for target in targets:
            absolute = urljoin(url, target.replace("&amp;", "&"))
            parts = urlsplit(absolute)
            # mailto: and tel: links are not pages of the site.
            if parts.scheme not in ("", "http", "https"):
                continue
            if parts.netloc and parts.netloc != "testserver":
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if not path or path in seen or NOT_FOLLOWED.search(path):
                continue
            seen.add(path)
            queue.append(path)
    return pages


class _TextOf(HTMLParser):
    """The text a person reads on a page: not attributes, not scripts, styles or code, and
    not a passage marked as another language (lang="en" on the language switch)."""

    SKIPPED = {"script", "style", "code", "pre", "textarea", "template"}
    VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}

    def __init__(self, language: str):
        super().__init__()
        self.language = language
        self.in_body = False
        self.stack: list[bool] = []  # per open element: is its text skipped?
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self.in_body = True
        if tag in self.VOID or not self.in_body:
            return
        lang = dict(attrs).get("lang")
        skipped = (
            tag in self.SKIPPED
            or (lang is not None and not lang.startswith(self.language))
            or (bool(self.stack) and self.stack[-1])
        )
        self.stack.append(skipped)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if self.in_body and not (self.stack and self.stack[-1]):
            self.parts.append(data)


def text_of(html: str, *, language: str = "fr") -> str:
    """The text of a page's <body>, as one string."""
    parser = _TextOf(language)
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())
