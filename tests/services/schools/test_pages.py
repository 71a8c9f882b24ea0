"""The pre-enrolment's pages: the parent sees the school of their address as they fill the
form, and is offered a sworn statement in place of a proof of address; the school service sees,
on the file and above the queue, the places of each school and level against the children
enrolled."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from services.procedures.actions import drafts, handling
from services.schools import procedures
from tests.factories import CommuneFactory, staff_user
from tests.services.bouquet.factories import submit

from .factories import SchoolFactory, family, places, school_year, segment, street
from .test_pre_enrolment import answers

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def in_march_2027():
    with time_machine.travel(datetime(2027, 3, 15, 10, tzinfo=PARIS), tick=False):
        yield


@pytest.fixture
def town():
    commune = CommuneFactory(name="Beauvais", insee_code="60057")
    north = SchoolFactory(name="École du Nord", commune=commune, address="1 rue du Nord")
    school_year(2027)
    segment(north, street(commune, "Rue Nationale"), year=2027)
    return commune, north


def step_page(client, parent, step: str) -> str:
    client.force_login(parent.user)
    file = drafts.start_draft(actor=parent.user, type_key=procedures.KEY)
    return client.get(reverse("procedures:step", args=[file.public_id, step])).content.decode()


def test_the_school_step_shows_the_school_of_the_households_address_on_the_day(client, town):
    commune, _north = town
    parent, _child = family(line1="12 rue Nationale", commune=commune)
    page = step_page(client, parent, "school")
    assert (
        "Le lundi 15 mars 2027, l’école de votre adresse (12 rue Nationale, Beauvais) pour "
        "2027-2028 est École du Nord, 1 rue du Nord." in page
    )
    # A derogation asks for a reason from the town's list and its supporting document.
    assert "Un frère ou une sœur déjà scolarisé dans cette école" in page
    assert 'name="derogation_reason"' in page
    assert 'name="derogation_document"' in page


def test_an_address_the_map_does_not_cover_says_the_service_will_tell(client, town):
    commune, _north = town
    parent, _child = family(line1="5 rue des Lilas", commune=commune)
    page = step_page(client, parent, "school")
    assert "ne donne pas encore une seule école pour votre adresse (5 rue des Lilas" in page


def test_the_address_step_offers_a_sworn_statement_in_place_of_a_proof(client, town):
    commune, _north = town
    parent, _child = family(commune=commune)
    page = step_page(client, parent, "address")
    assert 'name="address_proof" value="proof"' in page
    assert 'name="address_proof" value="sworn"' in page
    # The proof of address is asked only when no sworn statement is made.
    assert (
        'id="field-proof_of_address" data-shown-when="address_proof" data-shown-values="proof"'
        in page
    )
    assert (
        'id="field-sworn_statement" data-shown-when="address_proof" data-shown-values="sworn"'
        in page
    )


def test_the_service_sees_the_places_on_the_file_and_above_the_queue(client, town):
    commune, north = town
    places(north, "PS", 2, year=2027)
    clerk = staff_user("clerk")
    first, first_child = family(line1="12 rue Nationale", commune=commune)
    accepted = handling.transition(
        actor=clerk, file=submit(procedures.KEY, first, answers(first, first_child)), key="accept"
    )
    assert accepted.state == "accepted"
    second, second_child = family(line1="14 rue Nationale", commune=commune)
    waiting = submit(procedures.KEY, second, answers(second, second_child))
    client.force_login(clerk)
    page = client.get(reverse("procedures:staff_file", args=[waiting.public_id])).content.decode()
    assert "Pour décider" in page
    assert "École du Nord" in page
    assert "places\u00a0: 2, inscrits\u00a0: 1" in page
    queue = client.get(reverse("procedures:queue"), {"type": procedures.KEY}).content.decode()
    assert "Inscrits pour 2027-2028" in queue
    assert "2 (reste 1)" in queue
    unfiltered = client.get(reverse("procedures:queue")).content.decode()
    assert "Inscrits pour 2027-2028" not in unfiltered
