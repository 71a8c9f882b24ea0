"""A guardian books a lunch while the other says the child now brings a packed meal, at once, on
PostgreSQL. Without the child's row lock the booking reads the diet before the change commits
and the change looks for the child's open lunches before the booking commits: the day is booked
as a cooked lunch although the diet says packed meal (the kitchen cooks it, the bill charges
it). With the lock, whichever comes second sees the first: the day carries the packed meal."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from documents_vault.actions.uploads import add_document
from documents_vault.models import DocumentKind
from identity.models import Guardianship
from services.canteen import actions
from services.canteen.actions import DietChoice
from services.canteen.models import Booking, Diet
from tests.concurrency import at_once, line_up
from tests.documents_vault.factories import pdf_bytes
from tests.factories import PersonFactory, UserFactory
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DAY = date(2026, 12, 4)


@pytest.fixture
def pai_child():
    """A child with a PAI (no packed meal yet) and two guardians, on 1 December 2026."""
    with time_machine.travel(datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("Europe/Paris"))):
        service = lunch(canteen_site())
        guardian, child = enrolled_child(service.site)
        second = PersonFactory(household=guardian.household, role="adult", user=UserFactory())
        Guardianship.objects.create(guardian=second, child=child)
        plan = add_document(
            actor=guardian.user,
            person=child,
            kind=DocumentKind.CARE_PLAN,
            file_name="pai.pdf",
            content=pdf_bytes(),
        )
        actions.declare_diets(
            actor=guardian.user,
            child=child,
            choices=[DietChoice("allergy_pai", "arachide")],
            care_plan={"document_id": plan.public_id},
        )
        yield service, child, guardian.user, second.user


def race(service, child, booker, declarer) -> None:
    at_once(
        lambda: actions.book_days(actor=booker, child=child, service=service, days=[DAY], key="k"),
        lambda: actions.declare_diets(
            actor=declarer,
            child=child,
            choices=[DietChoice("allergy_pai", "arachide", packed_meal=True)],
        ),
    )


def test_without_the_childs_lock_the_day_misses_the_packed_meal(pai_child, monkeypatch):
    service, child, booker, declarer = pai_child
    # Both have read and written, then meet before their audit entry and commit.
    line_up(monkeypatch, actions, "record_audit_entry", lock=False)
    race(service, child, booker, declarer)
    assert Diet.objects.get(child=child).packed_meal is True
    assert Booking.objects.get(child=child, day=DAY).packed_meal is False  # the race


def test_with_the_childs_lock_the_day_carries_the_packed_meal(pai_child, monkeypatch):
    service, child, booker, declarer = pai_child
    line_up(monkeypatch, actions, "record_audit_entry", lock=True)
    race(service, child, booker, declarer)
    assert Diet.objects.get(child=child).packed_meal is True
    assert Booking.objects.get(child=child, day=DAY).packed_meal is True
