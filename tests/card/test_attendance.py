"""Agents > Fréquentation: entries per day and per hour at a facility, as charts and tables."""

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from card import charts, queries
from card.models import Tap
from identity.models import Facility, StaffRole
from services.catalog.models import AccessPoint
from tests.card.factories import logged_in
from tests.factories import AccessPointFactory, FacilityFactory, ResidentFactory, staff_user

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 16:00 in Paris (winter: UTC+1)


def tap(point: AccessPoint, at: datetime, *, granted: bool = True, reason: str = "granted"):
    return Tap.objects.create(
        access_point=point,
        client_tap_id=f"{point.pk}-{at.isoformat()}-{Tap.objects.count()}",
        credential=Tap.Credential.MANUAL if reason == "manual_entry" else Tap.Credential.SUN,
        reader_time=at,
        received_at=at,
        granted=granted,
        reason=reason,
        response={},
    )


def utc(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def pool():
    facility = FacilityFactory(kind=Facility.Kind.POOL, name="Piscine Nord")
    entrance = AccessPointFactory(facility=facility, kind=AccessPoint.Kind.ENTRANCE)
    exit_ = AccessPointFactory(facility=facility, name="Sortie", kind=AccessPoint.Kind.EXIT)
    desk = AccessPointFactory(facility=facility, name="Accueil", kind=AccessPoint.Kind.DESK)
    tap(entrance, utc(10, 9, 15))  # 10:15 Paris, 10 Nov
    tap(entrance, utc(10, 9, 45))  # 10:45 Paris
    tap(entrance, utc(10, 16, 0), reason="manual_entry")  # 17:00 Paris: staff let them in
    tap(entrance, utc(10, 23, 30))  # 00:30 Paris on 11 Nov
    tap(entrance, utc(11, 9, 5), granted=False, reason="no_entitlement")  # refused
    tap(exit_, utc(11, 9, 10), reason="exit")  # an exit is not an entry
    tap(desk, utc(11, 9, 20), reason="valid")  # a desk check is not an entry
    tap(entrance, utc(9, 22, 59))  # 23:59 Paris, 9 Nov: before the period
    tap(entrance, utc(12, 23, 0))  # 00:00 Paris, 13 Nov: after the period
    return facility


def test_entries_are_counted_per_paris_day_and_hour(pool):
    stats = queries.attendance(pool, start=date(2026, 11, 10), end=date(2026, 11, 12))
    assert stats.days == [(date(2026, 11, 10), 3), (date(2026, 11, 11), 1), (date(2026, 11, 12), 0)]
    assert stats.total == 4
    assert stats.day_count == 3
    expected = [0] * 24
    expected[10] = 2
    expected[17] = 1  # the manual entry
    expected[0] = 1  # 23:30 UTC is half past midnight in Paris, the next day
    assert stats.hours == expected
    assert stats.hourly_averages[10] == pytest.approx(2 / 3)


def test_summer_time_shifts_the_hour(pool):
    entrance = pool.access_points.get(kind=AccessPoint.Kind.ENTRANCE)
    tap(entrance, utc(1, 22, 30, month=7))  # 00:30 Paris on 2 July (UTC+2)
    stats = queries.attendance(pool, start=date(2026, 7, 1), end=date(2026, 7, 2))
    assert stats.days == [(date(2026, 7, 1), 0), (date(2026, 7, 2), 1)]
    assert stats.hours[0] == 1


def test_the_query_is_two_aggregates(pool, django_assert_num_queries):
    with django_assert_num_queries(2):
        queries.attendance(pool, start=date(2025, 11, 25), end=date(2026, 11, 25))


@time_machine.travel(NOW, tick=False)
def test_the_page_shows_two_charts_and_the_numbers(pool, django_assert_max_num_queries):
    client = logged_in(staff_user(StaffRole.Role.POOL_AGENT, facility=pool))
    with django_assert_max_num_queries(10):
        response = client.get(reverse("card:attendance"))  # the last 28 days by default
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 2
    assert 'role="img"' in html
    assert 'aria-label="Entries per day at Piscine Nord"' in html
    assert "Average entries per hour of the day at Piscine Nord" in html
    assert "6 entries at Piscine Nord" in html  # with the 9 and 13 November ones
    assert 'value="2026-10-29"' in html  # 28 days, today included
    assert 'value="2026-11-25"' in html
    assert '<time datetime="2026-11-10">' in html
    assert "<td>3</td>" in html  # 10 November
    assert " style=" not in html.split("<main", 1)[1]  # the CSP forbids inline styles
    for chunk in html.split("<svg")[1:]:
        root = parse("<svg" + chunk.split("</svg>", 1)[0] + "</svg>")
        assert root.get("role") == "img"
        assert root.find(f"{SVG}title") is not None


@time_machine.travel(NOW, tick=False)
def test_the_period_can_be_chosen(pool):
    client = logged_in(staff_user(StaffRole.Role.POOL_AGENT, facility=pool))
    html = client.get(
        reverse("card:attendance"), {"start": "2026-11-11", "end": "2026-11-11"}
    ).content.decode()
    assert "1 entry at Piscine Nord" in html
    assert '<time datetime="2026-11-10">' not in html


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("period", "message"),
    [
        (
            {"start": "2026-11-12", "end": "2026-11-10"},
            "The end of the period is before its start.",
        ),
        ({"start": "2025-01-01", "end": "2026-11-10"}, "Choose a period of 366 days at most."),
        ({"start": "yesterday", "end": "2026-11-10"}, "Enter a valid date."),
        ({"start": "2026-02-30", "end": "2026-11-10"}, "Enter a valid date."),
    ],
)
def test_a_bad_period_is_refused_with_a_message(pool, period, message):
    client = logged_in(staff_user(StaffRole.Role.POOL_AGENT, facility=pool))
    response = client.get(reverse("card:attendance"), period)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert "<svg" not in html


@time_machine.travel(NOW, tick=False)
def test_a_pool_agent_sees_their_pool_only(pool):
    other = FacilityFactory(kind=Facility.Kind.POOL, name="Piscine Sud")
    AccessPointFactory(facility=other)
    client = logged_in(staff_user(StaffRole.Role.POOL_AGENT, facility=pool))
    url = reverse("card:attendance")
    html = client.get(url).content.decode()
    assert "Piscine Nord" in html
    assert "Piscine Sud" not in html
    assert client.get(url, {"facility": other.public_id}).status_code == 403
    assert client.get(url, {"facility": pool.public_id}).status_code == 200


@time_machine.travel(NOW, tick=False)
def test_town_wide_staff_choose_the_facility(pool):
    other = FacilityFactory(kind=Facility.Kind.POOL, name="Piscine Sud")
    tap(AccessPointFactory(facility=other), utc(20, 10))
    client = logged_in(staff_user(StaffRole.Role.POOL_AGENT))  # no facility: town-wide
    html = client.get(reverse("card:attendance"), {"facility": other.public_id}).content.decode()
    assert "1 entry at Piscine Sud" in html
    assert "Piscine Nord" in html  # offered in the list


@pytest.mark.parametrize("who", ["resident", "clerk", "anonymous"])
def test_others_do_not_see_the_page(client, who):
    if who == "resident":
        client.force_login(ResidentFactory().user)
    elif who == "clerk":
        client.force_login(staff_user(StaffRole.Role.CLERK))
    response = client.get(reverse("card:attendance"))
    if who == "anonymous":
        assert response.status_code == 302
        assert "login" in response.url
    else:
        assert response.status_code == 403


def test_staff_home_links_the_page_for_attendance_only(pool):
    agent = logged_in(staff_user(StaffRole.Role.POOL_AGENT, facility=pool))
    clerk = logged_in(staff_user(StaffRole.Role.CLERK))
    url = reverse("card:attendance")
    assert url in agent.get(reverse("portal:staff_home")).content.decode()
    assert url not in clerk.get(reverse("portal:staff_home")).content.decode()


# --- The chart functions ---------------------------------------------------------------------


def parse(svg: str) -> ET.Element:
    """Our own markup, so the stdlib parser is fine; raises unless the SVG is well-formed."""
    return ET.fromstring(svg)  # noqa: S314


def test_a_chart_is_well_formed_accessible_and_escapes_its_texts():
    name = 'Piscine <Nord> & "Sud"'
    svg = charts.bar_chart(
        [charts.Bar(label="<10>", value=3), charts.Bar(label="11 & 12", value=0, hint="a'b")],
        title=f"Entries at {name}",
        x_label="Day <x>",
        y_label="Entries & more",
        css_class="chart-days",
    )
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == f"Entries at {name}"
    assert root.find(f"{SVG}title").text == f"Entries at {name}"
    assert "<Nord>" not in svg
    texts = [element.text for element in root.iter(f"{SVG}text")]
    assert "<10>" in texts
    assert "11 & 12" in texts
    assert "Day <x>" in texts
    assert "Entries & more" in texts
    rects = list(root.iter(f"{SVG}rect"))
    assert len(rects) == 2
    assert [rect.find(f"{SVG}title").text for rect in rects] == ["<10>: 3", "a'b"]
    assert float(rects[0].get("height")) > 0
    assert float(rects[1].get("height")) == 0


@pytest.mark.parametrize("count", [0, 1, 24, 366])
def test_charts_of_any_size_parse(count):
    bars = [charts.Bar(label=str(n), value=n % 7 * 1.5) for n in range(count)]
    root = parse(charts.bar_chart(bars, title="t", x_label="x", y_label="y"))
    assert len(list(root.iter(f"{SVG}rect"))) == count
    labels = [text for text in root.iter(f"{SVG}text") if text.get("text-anchor") == "middle"]
    assert len(labels) <= charts.MAX_X_LABELS + 2  # bar labels + the two axis titles


def test_the_axis_numbers_are_written_in_the_readers_language(in_english):
    bars = [charts.Bar(label="lundi", value=1200)]

    with translation.override("fr"):
        french = charts.bar_chart(bars, title="t", x_label="x", y_label="y")
    english = charts.bar_chart(bars, title="t", x_label="x", y_label="y")

    assert "1\xa0200" in french
    assert "1,200" in english
