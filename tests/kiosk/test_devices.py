"""Heartbeats from the agents and the staff's devices page."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from identity.models import StaffRole
from kiosk.models import DeviceStatus
from tests.factories import bearer, reader_with_token, reading_english, staff_user
from tests.kiosk.factories import kiosk_reader_with_token

pytestmark = pytest.mark.django_db

Role = StaffRole.Role


def beat(token, **fields):
    body = {
        "agent_version": "1.0.0",
        "mode": "kiosk",
        "reader_connected": True,
        "printer_status": "paper_low",
        "last_error": "",
        **fields,
    }
    return Client().post(
        "/api/v1/kiosk/heartbeat", body, content_type="application/json", headers=bearer(token)
    )


def test_a_heartbeat_is_kept_per_reader_and_tells_the_agent_who_it_is():
    reader, token = kiosk_reader_with_token()
    answer = beat(token)
    assert answer.status_code == 200
    assert answer.json()["reader"] == reader.public_id
    assert answer.json()["kind"] == "kiosk"
    beat(token, reader_connected=False, last_error="no reader found on usb: is it plugged in?")
    status = DeviceStatus.objects.get()
    assert status.reader == reader
    assert not status.reader_connected
    assert status.last_error.startswith("no reader found")


def test_a_heartbeat_needs_a_reader_token():
    response = Client().post(
        "/api/v1/kiosk/heartbeat", {"reader_connected": True}, content_type="application/json"
    )
    assert response.status_code == 401


def test_an_unknown_printer_status_is_kept_as_unknown():
    _reader, token = kiosk_reader_with_token()
    beat(token, printer_status="on fire")
    assert DeviceStatus.objects.get().printer_status == "unknown"


def test_the_devices_page_shows_every_reader_and_which_are_stale(time_machine):
    time_machine.move_to(timezone.now())
    kiosk, token = kiosk_reader_with_token()
    gate, _gate_token = reader_with_token()
    beat(token, printer_status="paper_out", last_error="printer: out of paper")
    client = reading_english(Client())
    client.force_login(staff_user(Role.ADMIN))
    page = client.get("/agents/bornes/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Out of paper" in text
    assert "printer: out of paper" in text
    rows = {row.reader: row for row in page.context["rows"]}
    assert not rows[kiosk].stale
    assert rows[gate].stale  # never sent a heartbeat
    time_machine.shift(timedelta(minutes=2, seconds=1))
    rows = {row.reader: row for row in client.get("/agents/bornes/").context["rows"]}
    assert rows[kiosk].stale


@pytest.mark.parametrize("role", [Role.POOL_AGENT, Role.CLERK, Role.FINANCE_OFFICER])
def test_other_staff_do_not_see_the_devices(role):
    client = Client()
    client.force_login(staff_user(role))
    assert client.get("/agents/bornes/").status_code == 403


def test_the_staff_home_links_the_devices_page_for_those_who_may_see_it():
    admin = Client()
    admin.force_login(staff_user(Role.ADMIN))
    assert 'href="/agents/bornes/"' in admin.get(reverse("portal:staff_home")).content.decode()
    agent = Client()
    agent.force_login(staff_user(Role.POOL_AGENT))
    page = agent.get(reverse("portal:staff_home"))
    assert page.status_code == 200
    assert 'href="/agents/bornes/"' not in page.content.decode()


def test_an_agents_printer_config_section():
    from kiosk.agent.config import ConfigError, parse_config

    base = {"server": {"url": "http://x", "token": "rdr_a"}, "reader": {"mode": "kiosk"}}
    assert parse_config(base).printer == ""
    config = parse_config({**base, "printer": {"name": "receipts", "timeout": 10}})
    assert (config.printer, config.printer_timeout) == ("receipts", 10.0)
    assert parse_config({**base, "agent": {"printer": "old"}}).printer == "old"
    with pytest.raises(ConfigError, match="printer.name"):
        parse_config({**base, "printer": {"name": "-o evil"}})


@pytest.mark.parametrize("queue_length", [2**31, 2**63, 10**30])
def test_a_queue_length_past_the_column_is_a_422_naming_the_field(queue_length):
    reader, token = kiosk_reader_with_token()
    response = beat(token, queue_length=queue_length)
    assert response.status_code == 422
    assert "queue_length" in response.content.decode()
    assert not DeviceStatus.objects.filter(reader=reader).exists()


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"])
def test_an_event_time_out_of_range_is_a_422_naming_the_field(at):
    from kiosk.models import ReaderEvent

    reader, token = kiosk_reader_with_token()
    response = Client(raise_request_exception=False).post(
        "/api/v1/kiosk/events",
        {"event": "card_removed", "at": at},
        content_type="application/json",
        headers=bearer(token),
    )
    assert response.status_code == 422
    assert '"at"' in response.content.decode()
    assert not ReaderEvent.objects.filter(reader=reader).exists()


def test_nul_characters_in_a_heartbeat_are_a_400_naming_the_field_not_a_500():
    """PostgreSQL refuses NUL in text: the one guard of every input refuses them first."""
    reader, token = kiosk_reader_with_token()
    response = beat(token, agent_version="1.0", last_error="lp:\x00 paper out")
    assert response.status_code == 400
    assert response.json()["field"] == "last_error"
    assert not DeviceStatus.objects.filter(reader=reader).exists()


def test_a_print_job_id_that_cannot_be_one_is_not_found():
    _reader, token = kiosk_reader_with_token()
    response = Client(raise_request_exception=False).post(
        "/api/v1/kiosk/print-jobs/a%00b/done",
        {"ok": False, "error": "x\x00"},
        content_type="application/json",
        headers=bearer(token),
    )
    assert response.status_code == 404


def test_a_reader_id_that_cannot_be_one_is_not_found_for_staff():
    admin = Client(raise_request_exception=False)
    admin.force_login(staff_user(Role.ADMIN))
    assert admin.post("/agents/bornes/a%00b/appairer/").status_code == 404
    assert admin.post("/agents/bornes/a%00b/desappairer/").status_code == 404
    assert Client(raise_request_exception=False).post("/borne/appairer/a%00b/").status_code == 404
