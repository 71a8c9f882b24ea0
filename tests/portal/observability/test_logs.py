"""Logs for machines: one JSON object a line, each carrying the id of its request (the
`X-Request-ID` the proxy sent, or one made here, sent back), and never a resident's name, email
or card number — checked over a whole journey served by a real server."""

import io
import json
import logging
import re

import pytest
from django.test import Client

from card.demo import demo_card, demo_reader_at, demo_reader_token
from deploy import smoke
from identity import demo
from identity.models import Person
from portal.observability.logs import JsonFormatter, RequestIdFilter
from portal.observability.requests import logger as request_logger
from tests.factories import post_tap, sun_url
from tests.portal.demo_site import load_demo

REQUEST_LOGGER = request_logger.name


@pytest.fixture
def log_lines():
    """Every record of every logger, from DEBUG up, as production writes it (JSON)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.mark.django_db
def test_the_request_id_given_by_the_proxy_is_on_every_line_and_sent_back(client, log_lines):
    response = client.get("/mon-espace/", headers={"X-Request-ID": "nginx-4f2a9c"})
    assert response["X-Request-ID"] == "nginx-4f2a9c"
    (line,) = [line for line in log_lines() if line["logger"] == REQUEST_LOGGER]
    assert line["request_id"] == "nginx-4f2a9c"
    assert line["path"] == "/mon-espace/"
    assert line["status"] == 302
    assert line["level"] == "INFO"
    assert set(line) >= {"time", "message", "duration_ms", "view", "user_id"}


@pytest.mark.django_db
@pytest.mark.parametrize("given", [None, "", "a b", "x" * 200, "<script>"])
def test_without_a_usable_request_id_one_is_made(client, given):
    headers = {"X-Request-ID": given} if given is not None else {}
    response = client.get("/healthz", headers=headers)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_an_email_in_a_library_message_is_masked():
    record = logging.LogRecord(
        "django.db", logging.ERROR, __file__, 1, "Key (email)=(%s) exists", ("a.b@x.fr",), None
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "Key (email)=([email]) exists"
    assert line["request_id"] == "-"


@pytest.mark.django_db(transaction=True)
def test_a_journey_leaves_no_name_email_or_card_number_in_the_logs(live_server, log_lines):
    accounts = load_demo()
    clerk = accounts["accueil@demo.sesame.fr"]
    camille = Person.objects.get(user__email=demo.RESIDENT_EMAIL)
    card = demo_card()
    reader = demo_reader_at()
    tap = post_tap(Client(), demo_reader_token(reader), credential=sun_url(card, 10_000))
    assert tap.json()["granted"] is True

    staff = smoke.Browser(live_server.url)
    smoke.staff_journey(staff, clerk.email, demo.DEMO_PASSWORD, clerk.totp_secret)
    response, _ = staff.get(f"/agents/usagers/?q={camille.last_name}")  # a search by name
    assert response.status == 200
    resident = smoke.Browser(live_server.url)
    pdf = smoke.basket_journey(resident, demo.RESIDENT_EMAIL, demo.DEMO_PASSWORD)
    assert pdf.startswith(b"%PDF-")

    lines = log_lines()
    served = {line["request_id"] for line in lines if line["logger"] == REQUEST_LOGGER}
    assert set(staff.request_ids) | set(resident.request_ids) <= served
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    for secret in {
        camille.first_name,
        camille.last_name,
        demo.RESIDENT_EMAIL,
        clerk.email,
        card.uid,
        card.uid.lower(),
        card.number,
    }:
        assert secret not in text, f"{secret!r} is in the logs"
