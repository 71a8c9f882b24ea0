"""The helper that runs calls at the same instant (tests/concurrency.py) fails the test when a
call is still running at its timeout, instead of returning as if it had answered."""

import threading

import pytest
from django.db import transaction

from identity.models import Household
from tests.concurrency import run_at_once
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_answers_come_back_in_call_order():
    outcome = run_at_once(lambda: "first", lambda: "second")
    assert outcome.answers == ["first", "second"]
    assert outcome.errors == []


def test_a_call_still_running_at_the_timeout_fails_the_test_naming_it():
    release = threading.Event()

    def stuck() -> None:
        release.wait(timeout=10)

    try:
        with pytest.raises(
            pytest.fail.Exception, match=r"still running after 0.5 s: call 1 \(.*stuck\)"
        ):
            run_at_once(lambda: "quick", stuck, timeout=0.5)
    finally:
        release.set()


@pytest.mark.postgres
def test_a_call_still_running_gives_its_row_locks_back():
    """Otherwise the test database could not be flushed after the failure: the run would hang
    instead of failing."""
    household = ResidentFactory().household
    release = threading.Event()

    def lock_then_hang() -> None:
        list(Household.objects.select_for_update().filter(pk=household.pk))
        release.wait(timeout=10)

    try:
        with pytest.raises(pytest.fail.Exception, match="still running"):
            run_at_once(lock_then_hang, timeout=1)
        with transaction.atomic():
            list(Household.objects.select_for_update(nowait=True).filter(pk=household.pk))
    finally:
        release.set()
