"""Mon espace > Canteen: a parent sees each child's month day by day (its state, and until when
it may change, as a date and a time), books and cancels days with one form (all or nothing, the
same form sent twice changes nothing more), books whole weeks and reads each day skipped with
its reason; the month is read in a constant number of queries; another household's child is
not found."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from identity.models import StaffRole
from identity.schooling.actions import close_school
from services.canteen import actions, queries
from services.canteen.models import Booking, Service
from tests.factories import ResidentFactory, staff_user
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


def booked(child, service) -> list[date]:
    return list(
        Booking.objects.filter(child=child, service=service, state="booked")
        .order_by("day")
        .values_list("day", flat=True)
    )


def post_month(client, child, service, *, offered, chosen, key="form-1"):
    return client.post(
        month_url(child, service),
        {
            "offered": [d.isoformat() for d in offered],
            "days": [d.isoformat() for d in chosen],
            "idempotency_key": key,
            "mois": "2026-12",
        },
    )


def test_each_day_says_its_state_and_until_when_it_may_change(family):
    client, user, child, service = family
    actions.book_days(actor=user, child=child, service=service, days=[date(2026, 12, 7)], key="a")
    admin = staff_user(StaffRole.Role.ADMIN)
    close_school(actor=admin, school=service.site.school, day=date(2026, 12, 10), reason="Grève")
    html = client.get(month_url(child, service)).content.decode()

    monday = day_item(html, "2026-12-07")
    assert 'data-status="bookable"' in monday
    assert "checked" in monday
    # The deadline as a date and a time, never as a rule (15:00 the day before).
    assert "modifiable jusqu’au dimanche 6 décembre 2026 à 15\u00a0h\u00a000" in monday
    thursday = day_item(html, "2026-12-03")
    assert 'data-status="bookable"' in thursday
    assert "checked" not in thursday
    assert "mercredi 2 décembre 2026 à 15\u00a0h\u00a000" in thursday
    # Today: its deadline (yesterday 15:00) is past, it shows as it stands.
    assert 'data-status="locked"' in day_item(html, "2026-12-01")
    assert 'data-status="not_run"' in day_item(html, "2026-12-02")  # a Wednesday
    assert 'data-status="closed"' in day_item(html, "2026-12-10")
    assert "Grève" in day_item(html, "2026-12-10")
    assert 'data-status="holiday"' in day_item(html, "2026-12-21")
    assert "Vacances de Noël" in day_item(html, "2026-12-21")
    november = client.get(month_url(child, service, "2026-11")).content.decode()
    assert 'data-status="past"' in day_item(november, "2026-11-30")
    assert 'name="days"' not in november


def test_served_absent_and_cancelled_days_say_so(family):
    client, user, child, service = family
    Booking.objects.bulk_create(
        [
            Booking(child=child, household=child.household, service=service, day=day, state=state)
            for day, state in [
                (date(2026, 11, 26), "served"),
                (date(2026, 11, 27), "absent"),
                (date(2026, 11, 30), "cancelled"),
            ]
        ]
    )
    html = client.get(month_url(child, service, "2026-11")).content.decode()
    assert "Servi" in day_item(html, "2026-11-26")
    assert "Absent" in day_item(html, "2026-11-27")
    assert "Annulé" in day_item(html, "2026-11-30")


def test_the_month_is_read_in_a_constant_number_of_queries(family):
    client, user, child, service = family
    service = Service.objects.select_related("site__school").get(pk=service.pk)
    with CaptureQueriesContext(connection) as empty_month:
        queries.month_calendar(child, service, date(2027, 1, 1), NOW)
    actions.book_pattern(
        actor=user,
        child=child,
        service=service,
        weekdays=[0, 1, 3, 4],
        start=date(2027, 1, 4),
        until=date(2027, 1, 31),
        key="month",
    )
    with CaptureQueriesContext(connection) as full_month:
        calendar = queries.month_calendar(child, service, date(2027, 1, 1), NOW)
    assert sum(day.booked for day in calendar.days) == 16
    assert len(full_month) == len(empty_month) <= 5


def test_the_month_page_does_not_grow_with_its_bookings(family, django_assert_max_num_queries):
    client, user, child, service = family
    actions.book_pattern(
        actor=user,
        child=child,
        service=service,
        weekdays=[0, 1, 3, 4],
        start=date(2027, 1, 4),
        until=date(2027, 1, 31),
        key="month",
    )
    with CaptureQueriesContext(connection) as empty_month:
        client.get(month_url(child, service, "2027-02"))
    with django_assert_max_num_queries(len(empty_month)):
        response = client.get(month_url(child, service, "2027-01"))
    assert response.content.decode().count("checked") == 16


def test_one_form_books_and_cancels_and_sent_again_changes_nothing(family):
    client, user, child, service = family
    actions.book_days(actor=user, child=child, service=service, days=[date(2026, 12, 7)], key="a")
    offered = [date(2026, 12, 3), date(2026, 12, 4), date(2026, 12, 7)]
    response = post_month(
        client, child, service, offered=offered, chosen=[date(2026, 12, 3), date(2026, 12, 4)]
    )
    assert response.status_code == 302
    assert booked(child, service) == [date(2026, 12, 3), date(2026, 12, 4)]
    page = client.get(response.url).content.decode()
    assert "2 jour(s) réservé(s), 1 jour(s) annulé(s)" in page
    # The same form again (a double click, a retry): the first answer, nothing more written.
    post_month(
        client, child, service, offered=offered, chosen=[date(2026, 12, 3), date(2026, 12, 4)]
    )
    assert booked(child, service) == [date(2026, 12, 3), date(2026, 12, 4)]
    assert Booking.objects.filter(child=child, state="cancelled").count() == 1


def test_a_day_past_its_deadline_refuses_the_whole_form(family):
    client, user, child, service = family
    actions.book_days(actor=user, child=child, service=service, days=[date(2026, 12, 7)], key="a")
    response = post_month(
        client,
        child,
        service,
        # 1 December closed yesterday at 15:00: a form drawn before that, sent now.
        offered=[date(2026, 12, 1), date(2026, 12, 3), date(2026, 12, 7)],
        chosen=[date(2026, 12, 1), date(2026, 12, 3)],
    )
    page = client.get(response.url).content.decode()
    error = page[page.index("message-error") :]
    assert "mardi 1 décembre 2026" in error[:300]
    assert "réservations closes" in error[:300]
    assert booked(child, service) == [date(2026, 12, 7)]  # nothing cancelled, nothing booked


def test_a_pattern_books_and_lists_each_day_skipped_with_its_reason(family):
    client, user, child, service = family
    admin = staff_user(StaffRole.Role.ADMIN)
    close_school(actor=admin, school=service.site.school, day=date(2026, 12, 10), reason="Grève")
    url = reverse("canteen:pattern", args=[child.public_id, service.public_id])
    response = client.post(
        url,
        {
            "weekdays": ["0", "3"],
            "every_weeks": "1",
            "start": "2026-12-01",
            "until": "2027-01-11",
            "idempotency_key": "weeks-1",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert booked(child, service) == [
        date(2026, 12, 3),
        date(2026, 12, 7),
        date(2026, 12, 14),
        date(2026, 12, 17),
        date(2027, 1, 4),
        date(2027, 1, 7),
        date(2027, 1, 11),
    ]
    assert "7 jours réservés" in html
    assert "Grève" in day_item(html, "2026-12-10")
    assert "Vacances de Noël" in day_item(html, "2026-12-21")
    assert "Vacances de Noël" in day_item(html, "2026-12-31")


def test_every_other_week(family):
    client, user, child, service = family
    url = reverse("canteen:pattern", args=[child.public_id, service.public_id])
    client.post(
        url,
        {
            "weekdays": ["0"],
            "every_weeks": "2",
            "start": "2027-01-04",
            "until": "2027-02-01",
            "idempotency_key": "weeks-2",
        },
    )
    assert booked(child, service) == [date(2027, 1, 4), date(2027, 1, 18), date(2027, 2, 1)]


def test_a_pattern_over_400_days_is_refused_on_its_field(family):
    client, user, child, service = family
    url = reverse("canteen:pattern", args=[child.public_id, service.public_id])
    response = client.post(
        url,
        {
            "weekdays": ["0"],
            "every_weeks": "1",
            "start": "2026-12-03",
            "until": "2028-01-31",
            "idempotency_key": "weeks-3",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    until = html[html.index('for="id_until"') - 300 :]
    assert "400 jours" in until
    assert not Booking.objects.exists()


def test_a_weekday_the_service_does_not_run_is_not_offered(family):
    client, user, child, service = family
    html = client.get(reverse("canteen:pattern", args=[child.public_id, service.public_id]))
    page = html.content.decode()
    assert 'name="weekdays" value="3"' in page  # Thursday
    assert 'name="weekdays" value="2"' not in page  # lunch does not run on Wednesdays


def test_another_households_child_is_not_found(family):
    client, user, child, service = family
    client.force_login(ResidentFactory().user)
    for url in [
        month_url(child, service),
        reverse("canteen:pattern", args=[child.public_id, service.public_id]),
        reverse("canteen:diets", args=[child.public_id]),
        reverse("canteen:menus", args=[child.public_id]),
    ]:
        assert client.get(url).status_code == 404
    response = post_month(client, child, service, offered=[date(2026, 12, 3)], chosen=[])
    assert response.status_code == 404
    assert not Booking.objects.exists()


def test_mon_espace_lists_the_children_at_the_canteen(family):
    client, user, child, service = family
    html = client.get(reverse("portal:home")).content.decode()
    assert child.first_name in html
    assert month_url(child, service).split("?")[0] in html
