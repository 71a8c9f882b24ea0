"""Words for people, not codes: every page each demo role reaches from its home (links
followed with the test client, GET only) reads in French, with no code of the software
(`staff.file_viewed`, `user#8`), no ISO date in its text (2026-12-31) and no English word."""

import re

import pytest

from tests.portal.demo_site import ROLES, crawl, load_demo, log_in, text_of

pytestmark = pytest.mark.django_db

CODE = re.compile(r"\b[a-z]\w*\.[a-z]\w*_\w+\b")
USER_ID = re.compile(r"\b(?:user|person|household)#\d+")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
# Words of English that French never uses (and no name of the demo is made of).
ENGLISH = {
    "the",
    "and",
    "with",
    "your",
    "you",
    "please",
    "this",
    "that",
    "these",
    "those",
    "from",
    "for",
    "of",
    "is",
    "are",
    "was",
    "were",
    "not",
    "yes",
    "none",
    "left",
    "entries",
    "entry",
    "wallet",
    "basket",
    "payment",
    "payments",
    "cards",
    "remove",
    "cancel",
    "submit",
    "save",
    "back",
    "search",
    "find",
    "download",
    "print",
    "view",
    "manage",
    "account",
    "password",
    "email",
    "sign",
    "login",
    "logout",
    "add",
    "delete",
    "edit",
    "show",
    "hide",
    "granted",
    "refused",
    "staff",
    "desk",
    "kiosk",
    "reader",
    "readers",
    "until",
    "since",
    "when",
    "who",
    "what",
    "why",
    "how",
    "where",
    "which",
    "there",
    "here",
    "have",
    "has",
    "been",
    "will",
    "would",
    "should",
    "can",
    "cannot",
    "must",
    "about",
    "into",
    "only",
    "every",
    "each",
    "more",
    "less",
    "other",
    "new",
    "old",
    "name",
    "names",
    "day",
    "days",
    "hour",
    "hours",
    "month",
    "year",
    "price",
    "amount",
    "refund",
    "refunds",
    "order",
    "orders",
    "receipt",
    "invoice",
    "household",
    "member",
    "members",
    "child",
    "children",
    "resident",
    "residents",
    "status",
    "pending",
    "paid",
    "failed",
    "succeeded",
    "suspended",
    "requested",
    "validated",
    "produced",
    "replaced",
    "expired",
    "revoked",
    "rejected",
    "today",
    "yesterday",
    "tomorrow",
    "online",
    "first",
    "last",
    "next",
    "previous",
    "results",
    "nothing",
    "something",
}

HOMES = {"resident": ["/mon-espace/"], "admin": ["/agents/", "/admin/"]}


def words_problems(html: str) -> list[str]:
    text = text_of(html)
    problems = [f"code {m!r}" for m in CODE.findall(text)]
    problems += [f"account id {m!r}" for m in USER_ID.findall(text)]
    problems += [f"ISO date {m!r}" for m in ISO_DATE.findall(text)]
    problems += [
        f"English word {w!r}"
        for w in sorted({w.lower() for w in re.findall(r"[A-Za-z]+", text)} & ENGLISH)
    ]
    return problems


def pages_of(client, role: str) -> dict[str, str]:
    """The demo loaded, `role` logged in, and the pages it reaches: {url: html}."""
    accounts = load_demo()
    log_in(client, accounts[ROLES[role]])
    return crawl(client, HOMES.get(role, ["/agents/"]))


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_of_a_role_speaks_french_words(client, role):
    pages = pages_of(client, role)
    assert len(pages) >= (20 if role == "resident" else 5)  # the crawl did reach its pages
    problems = {url: found for url, html in pages.items() if (found := words_problems(html))}
    assert problems == {}


def test_the_checks_catch_what_they_look_for():
    page = (
        '<html><body><p lang="en">English</p><p>Entrée du 2026-12-31 par user#8 : '
        "staff.file_viewed</p><code>staff.file_viewed</code>"
        '<a title="2026-12-31" href="/x">Retour to the list</a></body></html>'
    )
    assert words_problems(page) == [
        "code 'staff.file_viewed'",
        "account id 'user#8'",
        "ISO date '2026-12-31'",
        "English word 'staff'",
        "English word 'the'",
    ]
    assert words_problems("<body><p>Bonjour Camille, votre carte est active.</p></body>") == []
