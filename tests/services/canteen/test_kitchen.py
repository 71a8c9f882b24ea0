"""The kitchen's list of a day, per class with its counts, final at the deadline, as data and
as a PDF opened here; only the school's canteen staff see it, and each opening is audited."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from pypdf import PdfReader

from identity.errors import Conflict, Forbidden
from identity.models import AuditEntry, StaffRole
from services.canteen import actions
from services.canteen.kitchen import kitchen_list, kitchen_pdf
from tests.factories import staff_user
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

PARIS = ZoneInfo("Europe/Paris")
THURSDAY = date(2026, 12, 3)


@pytest.fixture
def booked_lunch():
    with time_machine.travel(datetime(2026, 12, 1, 10, tzinfo=PARIS), tick=False):
        site = canteen_site()
        service = lunch(site)
        children = []
        for key in ("a", "b"):
            guardian, child = enrolled_child(site)
            actions.book_days(
                actor=guardian.user, child=child, service=service, days=[THURSDAY], key=key
            )
            children.append(child)
    return service, children


def test_the_list_is_final_at_the_deadline_and_printable(booked_lunch):
    service, children = booked_lunch
    agent = staff_user(StaffRole.Role.CANTEEN_AGENT, facility=service.site.school)
    before = datetime(2026, 12, 2, 14, 59, tzinfo=PARIS)
    with time_machine.travel(before, tick=False), pytest.raises(Conflict):
        kitchen_list(actor=agent, service=service, day=THURSDAY)
    with time_machine.travel(datetime(2026, 12, 2, 15, 0, 1, tzinfo=PARIS), tick=False):
        sheet = kitchen_list(actor=agent, service=service, day=THURSDAY)
    assert sheet.count == 2
    assert sorted(c.name for c in sheet.classes[0][1]) == sorted(
        child.full_name for child in children
    )
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(kitchen_pdf(sheet))).pages)
    assert "Total: 2" in text
    for child in children:
        assert child.full_name in text
    assert AuditEntry.objects.filter(action="canteen.kitchen_list_opened").count() == 1


def test_staff_of_another_school_do_not_see_it(booked_lunch):
    service, _children = booked_lunch
    other = staff_user(StaffRole.Role.CANTEEN_AGENT, facility=canteen_site("Autre").school)
    with pytest.raises(Forbidden):
        kitchen_list(actor=other, service=service, day=THURSDAY)
