"""Two clerks accepting two requests to collect a certificate at the same instant, both for the
desk's last place: the booking an acceptance produces is the desk's, under the desk's lock, so
one is accepted with its appointment and the other refused ("slot_taken") with nothing
half-accepted. Following pretix, the race is first shown with the locks switched off, lined up
on the read of the places taken. PostgreSQL only."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from identity.errors import Conflict
from services.appointments import queries
from services.appointments.models import Appointment, Desk
from services.procedures.actions import handling, outputs
from tests.concurrency import line_up, run_at_once
from tests.factories import ResidentFactory, staff_user
from tests.services.appointments.factories import DeskFactory

from .test_booking_output import to_collect

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
PARIS = ZoneInfo("Europe/Paris")


def accept_both_at_once(monkeypatch, *, lock: bool):
    with time_machine.travel(datetime(2026, 12, 7, 8, tzinfo=PARIS), tick=False):
        DeskFactory(kind=Desk.Kind.CIVIL_STATUS, stations=1, hours=[(1, time(9), time(9, 15))])
        files = [to_collect(ResidentFactory()), to_collect(ResidentFactory())]
        slot = outputs.booking_openings(files[0])[1][0].value
        clerks = [staff_user("clerk"), staff_user("clerk")]
        line_up(monkeypatch, queries, "places_taken", lock=lock)
        outcome = run_at_once(
            *[
                lambda clerk=clerk, file=file: handling.transition(
                    actor=clerk, file=file, key="accept", slot=slot
                )
                for clerk, file in zip(clerks, files, strict=True)
            ]
        )
    for file in files:
        file.refresh_from_db()
    return outcome, files


def test_without_the_lock_both_are_accepted_for_one_place(monkeypatch):
    outcome, files = accept_both_at_once(monkeypatch, lock=False)
    assert outcome.errors == []
    assert [f.state for f in files] == ["accepted", "accepted"]
    assert Appointment.objects.count() == 2  # two residents for the desk's one station


def test_with_the_lock_the_second_is_refused_and_nothing_is_half_accepted(monkeypatch):
    outcome, files = accept_both_at_once(monkeypatch, lock=True)
    assert len(outcome.errors) == 1
    assert isinstance(outcome.errors[0], Conflict)
    assert outcome.errors[0].code == "slot_taken"
    assert sorted(f.state for f in files) == ["accepted", "submitted"]
    refused = next(f for f in files if f.state == "submitted")
    assert not Appointment.objects.filter(person=refused.applicant).exists()
    assert Appointment.objects.count() == 1
