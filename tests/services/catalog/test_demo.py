"""The demo territory's hours and limits: the Pradines pool behaves like a fully configured one
(closed at night, `already_inside` until Camille taps out), the Cahors pool — where `make tap`
goes — has no hours entered yet and opens at any hour; loaded idempotently, also into a demo
loaded before they existed."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from identity import demo as identity_demo
from identity.models import Facility, Person
from identity.schooling.models import SchoolHoliday
from services.catalog import demo
from services.catalog.actions import decide
from services.catalog.models import (
    AccessPoint,
    FacilityAccessRules,
    OpeningHours,
)
from tests.portal.test_demo_roles import log_in

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def territory():
    with time_machine.travel(datetime(2026, 11, 25, 9, 0, tzinfo=PARIS), tick=False):
        identity_demo.load()
        demo.load()


def camille() -> Person:
    return Person.objects.get(user__email=identity_demo.RESIDENT_EMAIL)


def point(facility: str, kind: str) -> AccessPoint:
    return AccessPoint.objects.select_related("facility").get(facility__name=facility, kind=kind)


def tap(access_point: AccessPoint, moment: datetime):
    with time_machine.travel(moment, tick=False):
        return decide(holder_id=camille().pk, access_point=access_point, at=timezone.now())


def test_loading_the_demo_twice_changes_nothing(territory):
    counts = (OpeningHours.objects.count(), FacilityAccessRules.objects.count())
    demo.load()
    assert (OpeningHours.objects.count(), FacilityAccessRules.objects.count()) == counts
    assert SchoolHoliday.objects.count() == 1  # identity's school calendar


def test_a_demo_loaded_before_hours_existed_gets_them(territory):
    OpeningHours.objects.all().delete()
    FacilityAccessRules.objects.all().delete()
    demo.load()
    assert set(FacilityAccessRules.objects.values_list("max_occupancy", flat=True)) == {250, 120}
    pradines = Facility.objects.get(name="Piscine de Pradines")
    assert OpeningHours.objects.filter(facility=pradines).exists()


def test_make_tap_s_pool_opens_at_any_hour_and_counts_its_places(territory):
    entrance = demo.first_pool_entrance()
    assert entrance.facility.name == "Piscine de Cahors"
    night = datetime(2026, 11, 28, 3, 0, tzinfo=PARIS)
    assert tap(entrance, night).remaining == 9
    assert tap(entrance, night.replace(minute=5)).remaining == 8  # no anti-passback there
    rules = FacilityAccessRules.objects.get(facility=entrance.facility)
    assert (rules.max_occupancy, rules.anti_passback_minutes) == (250, None)


def test_the_demo_pool_is_open_at_lunchtime_and_closed_at_night(territory):
    entrance = demo.pool_entrance("Piscine de Pradines")
    assert tap(entrance, datetime(2026, 11, 28, 3, 0, tzinfo=PARIS)).reason == "closed"
    assert tap(entrance, datetime(2026, 11, 30, 12, 30, tzinfo=PARIS)).reason == "granted"


def test_the_demo_pool_has_longer_hours_in_the_christmas_holidays(territory):
    entrance = demo.pool_entrance("Piscine de Pradines")
    assert tap(entrance, datetime(2026, 12, 14, 10, 30, tzinfo=PARIS)).reason == "closed"
    assert tap(entrance, datetime(2026, 12, 21, 10, 30, tzinfo=PARIS)).reason == "granted"


def test_camille_taps_out_before_coming_in_again(territory):
    entrance = demo.pool_entrance("Piscine de Pradines")
    exit_ = point(entrance.facility.name, AccessPoint.Kind.EXIT)
    saturday = datetime(2026, 11, 28, 10, 30, tzinfo=PARIS)
    assert tap(entrance, saturday).remaining == 9
    assert tap(entrance, saturday.replace(minute=45)).reason == "already_inside"
    assert tap(exit_, saturday.replace(hour=11)).reason == "exit"
    assert tap(entrance, saturday.replace(hour=11, minute=5)).remaining == 8


def test_the_mediatheque_desk_is_never_closed(territory):
    desk = point("Médiathèque du Grand Cahors", AccessPoint.Kind.DESK)
    lea = camille().household.members.get(first_name="Léa")
    with time_machine.travel(datetime(2026, 11, 30, 3, 0, tzinfo=PARIS), tick=False):
        decision = decide(holder_id=lea.pk, access_point=desk, at=timezone.now())
    assert decision.reason == "valid"
    assert OpeningHours.objects.filter(facility=desk.facility).exists()


def test_the_administrator_edits_hours_and_limits_in_the_admin(client, territory):
    accounts = {account.email: account for account in identity_demo.load()}
    log_in(client, accounts["admin@demo.sesame.fr"])
    for model in ["accesspoint", "facilityaccessrules", "openinghours", "facilityclosure"]:
        assert client.get(f"/admin/catalog/{model}/").status_code == 200
        assert client.get(f"/admin/catalog/{model}/add/").status_code == 200
    # The holidays are identity's school calendar, edited with the school years.
    assert client.get("/admin/identity/schoolyear/").status_code == 200
    # Today's occupancy is decide's: shown, never edited by hand. Presences are not shown.
    assert client.get("/admin/catalog/facilityoccupancy/").status_code == 200
    assert client.get("/admin/catalog/facilityoccupancy/add/").status_code == 403
    assert client.get("/admin/catalog/presence/").status_code == 404
