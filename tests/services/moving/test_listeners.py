"""The services that care listen to a change of address (the registry's on_address_change,
called when the change-of-address procedure is accepted): the canteen tells the parents what
changes for their price and bookings and tells the canteen agents of the sites where a child
is still booked; an open pre-enrolment file whose catchment school changes gets a note in its
timeline for the clerk and the parent; the waste-sorting bags follow the household's address."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from identity.actions.household import AddressInput, change_address
from identity.models import StaffRole
from identity.notifications.models import Notification
from services.canteen.actions import book_days
from services.catalog import registry
from services.schools import procedures as pre_enrolment
from services.waste_bags import queries as bags
from tests.factories import CommuneFactory, staff_user
from tests.services.bouquet.factories import submit
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch
from tests.services.schools.factories import SchoolFactory, family, segment, street
from tests.services.schools.test_pre_enrolment import answers
from tests.services.waste_bags.factories import quota_table

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def moves(parent, *, line1: str, commune, on: date) -> None:
    """The move as the accepted change of address makes it: the history, then the services."""
    change_address(
        actor=parent.user,
        household=parent.household,
        address=AddressInput(line1=line1, line2="", postcode="46000", commune=commune),
        moved_in=on,
    )
    registry.announce_address_change(parent.household, on)


@pytest.mark.parametrize("service", ["canteen", "schools", "waste_bags"])
def test_each_service_that_cares_listens(service):
    assert registry.service(service).on_address_change is not None


# --- waste-sorting bags ----------------------------------------------------------------------


def test_the_bags_stop_from_the_day_the_household_leaves_the_territory():
    parent, _child = family()
    quota_table(date.today().year)
    leaving_for = CommuneFactory(territory=None, name="Toulouse", insee_code="31555")
    day = date.today()
    assert bags.entitled_on(parent.household, day)
    moves(parent, line1="3 rue d'Alsace", commune=leaving_for, on=day)
    assert not bags.entitled_on(parent.household, day)
    assert bags.bags_left(parent.household, day.year) == 0
    told = Notification.objects.get(recipient=parent.user, topic="waste_bags.household_moved")
    assert "ne distribue plus" in told.body


def test_a_move_within_the_territory_changes_nothing_for_the_bags():
    parent, _child = family()
    quota_table(date.today().year)
    before = bags.bags_left(parent.household, date.today().year)
    same_town = parent.household.addresses.get().commune
    moves(parent, line1="8 rue Nationale", commune=same_town, on=date.today())
    assert bags.bags_left(parent.household, date.today().year) == before > 0
    assert not Notification.objects.filter(topic="waste_bags.household_moved").exists()


# --- school pre-enrolment --------------------------------------------------------------------


@pytest.fixture
def in_march_2027():
    with time_machine.travel(datetime(2027, 3, 15, 10, tzinfo=PARIS), tick=False):
        yield


def test_an_open_pre_enrolment_gets_a_note_when_the_catchment_school_changes(in_march_2027):
    commune = CommuneFactory(name="Beauvais", insee_code="60057")
    north = SchoolFactory(name="École du Nord", commune=commune)
    south = SchoolFactory(name="École du Sud", commune=commune)
    nationale = street(commune, "Rue Nationale")
    segment(north, nationale, year=2027, start=1, end=99, side="even")
    segment(south, nationale, year=2027, start=1, end=99, side="odd")
    parent, child = family(line1="12 rue Nationale", commune=commune)
    file = submit(pre_enrolment.KEY, parent, answers(parent, child))
    moves(parent, line1="13 rue Nationale", commune=commune, on=date(2027, 4, 1))
    note = file.events.get(kind="message", actor=None)
    assert "École du Sud" in note.text
    assert "École du Nord" in note.text
    assert not note.internal  # the clerk and the parent both read it
    assert Notification.objects.filter(recipient=parent.user, topic="procedures.message").exists()


def test_a_move_that_keeps_the_school_or_a_derogation_writes_no_note(in_march_2027):
    commune = CommuneFactory(name="Beauvais", insee_code="60057")
    north = SchoolFactory(name="École du Nord", commune=commune)
    segment(north, street(commune, "Rue Nationale"), year=2027)
    parent, child = family(line1="12 rue Nationale", commune=commune)
    file = submit(pre_enrolment.KEY, parent, answers(parent, child))
    moves(parent, line1="40 rue Nationale", commune=commune, on=date(2027, 4, 1))
    assert not file.events.filter(kind="message").exists()


# --- canteen ---------------------------------------------------------------------------------


def test_the_canteen_tells_the_parents_and_the_sites_agents_of_a_move_out_of_the_territory():
    with time_machine.travel(datetime(2026, 9, 7, 9, tzinfo=PARIS), tick=False):
        site = canteen_site()
        service = lunch(site)
        guardian, child = enrolled_child(site)
        agent = staff_user(StaffRole.Role.CANTEEN_AGENT, facility=site.school)
        book_days(
            actor=guardian.user, child=child, service=service, days=[date(2026, 9, 17)], key="k1"
        )
        elsewhere = CommuneFactory(territory=None, name="Toulouse", insee_code="31555")
        moves(guardian, line1="3 rue d'Alsace", commune=elsewhere, on=date(2026, 9, 14))
    parents = Notification.objects.get(recipient=guardian.user, topic="canteen.household_moved")
    assert "tarif non-résident" in parents.body
    assert "1 réservation" in parents.body
    staff = Notification.objects.get(recipient=agent, topic="canteen.bookings_after_move")
    assert child.full_name in staff.body
