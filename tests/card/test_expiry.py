"""Cards past their date expire in the nightly task; the expiry is audited."""

from datetime import date

import pytest
import time_machine
from django.core.management import call_command

from card.models import Card
from identity.models import AuditEntry
from tests.factories import CardFactory

pytestmark = pytest.mark.django_db


def test_the_nightly_task_expires_cards_past_their_date_and_only_those():
    with time_machine.travel(date(2026, 11, 25), tick=False):
        old = CardFactory(expires_on=date(2026, 11, 24))
        last_day = CardFactory(expires_on=date(2026, 11, 25))
        suspended = CardFactory(expires_on=date(2026, 1, 1), status=Card.Status.SUSPENDED)
        call_command("expire_cards", stdout=None)  # tasks run inline in the test settings
    for card in (old, last_day, suspended):
        card.refresh_from_db()
    assert old.status == Card.Status.EXPIRED
    assert last_day.status == Card.Status.ACTIVE  # valid through its last day
    assert suspended.status == Card.Status.SUSPENDED
    assert AuditEntry.objects.filter(action="card.expired", target=old.number).count() == 1
