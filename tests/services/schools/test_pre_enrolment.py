"""School pre-enrolment: the school of the household's address or a derogation with the
town's reason, only the documents the law allows (a sworn statement for the address), the
school service's decisions, and the certificate of enrolment sent on acceptance."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader

from documents_vault.models import Document
from identity.actions.household import AddressInput, change_address
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import AuditEntry, Guardianship, Person
from identity.schooling.actions import enrol_child
from identity.schooling.models import Enrolment, SchoolYear
from services.canteen import queries as canteen_queries
from services.procedures.actions import handling
from services.procedures.errors import FieldErrors
from services.schools import procedures
from services.schools.actions import read_school_list
from services.schools.models import SchoolPlaces
from services.schools.queries import places_against_accepted
from tests.documents_vault.factories import pdf_bytes, stored_document
from tests.factories import CommuneFactory, PersonFactory, UserFactory, staff_user
from tests.services.bouquet.factories import submit

from .factories import SchoolFactory, family, places, school_year, segment, street

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def in_march_2027():
    # Pre-enrolment in March for the school year 2027-2028.
    with time_machine.travel(datetime(2027, 3, 15, 10, tzinfo=PARIS), tick=False):
        yield


@pytest.fixture
def town():
    commune = CommuneFactory(name="Beauvais", insee_code="60057")
    north = SchoolFactory(name="École du Nord", commune=commune, address="1 rue du Nord")
    south = SchoolFactory(name="École du Sud", commune=commune)
    school_year(2027)
    nationale = street(commune, "Rue Nationale")
    segment(north, nationale, year=2027, start=1, end=99, side="even")
    segment(south, nationale, year=2027, start=1, end=99, side="odd")
    return commune, north, south


@pytest.fixture
def clerk():
    return staff_user("clerk")


def document(person, kind: str, *, pages: int) -> str:
    """A document of the person's safe (distinct files: the safe refuses a duplicate)."""
    existing = Document.objects.filter(person=person, kind=kind).first()
    if existing is not None:
        return existing.public_id
    return stored_document(person, kind=kind, content=pdf_bytes(pages=pages)).public_id


def answers(parent, child, **more):
    return {
        "child": child.public_id,
        "level": "PS",
        "child_identity": document(parent, "family_record_book", pages=1),
        "guardian_identity": document(parent, "identity_document", pages=2),
        "choice": "catchment",
        "address_proof": "sworn",
        "sworn_statement": True,
        **more,
    }


def test_an_accepted_file_enrols_the_child_at_the_school_of_the_address_with_a_certificate(
    town, clerk, client, django_capture_on_commit_callbacks
):
    commune, north, _south = town
    parent, child = family(line1="12 rue Nationale", commune=commune)
    file = submit(procedures.KEY, parent, answers(parent, child))
    with django_capture_on_commit_callbacks(execute=True):
        file = handling.transition(actor=clerk, file=file, key="take")
        file = handling.transition(actor=clerk, file=file, key="mark_complete")
        assert file.staff_state_label == "Complète"
        file = handling.transition(actor=clerk, file=file, key="accept")
    enrolment = Enrolment.objects.get(child=child)
    assert (enrolment.school, enrolment.school_year.name, enrolment.level) == (
        north,
        "2027-2028",
        "PS",
    )
    assert enrolment.procedure_file == file.public_id
    assert not enrolment.derogation
    client.force_login(parent.user)
    response = client.get(reverse("procedures:outcome", args=[file.public_id]))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "CERTIFICAT D’INSCRIPTION" in text.upper().replace("'", "’")
    assert "L131-5" in text
    assert child.full_name in text
    assert "04/03/2024" in text
    assert "École du Nord" in text
    assert "Petite section" in text
    assert "2027-2028" in text
    mailed = [m for m in mail.outbox if m.to == [parent.user.email] and m.attachments]
    assert len(mailed) == 1
    assert mailed[0].attachments[0][1].startswith(b"%PDF")


def test_a_move_declared_after_the_submission_enrols_at_the_school_of_the_new_home(town, clerk):
    commune, north, south = town
    parent, child = family(line1="12 rue Nationale", commune=commune)  # even: the north's
    file = submit(procedures.KEY, parent, answers(parent, child))
    change_address(
        actor=parent.user,
        household=parent.household,
        address=AddressInput("13 rue Nationale", "", "60000", commune),  # odd: the south's
        moved_in=date(2027, 6, 1),
    )
    file = handling.transition(actor=clerk, file=file, key="take")
    file = handling.transition(actor=clerk, file=file, key="accept")
    assert Enrolment.objects.get(child=child).school == south


def test_a_proof_of_address_in_place_of_the_sworn_statement(town, clerk):
    commune, _north, south = town
    parent, child = family(line1="13 rue Nationale", commune=commune)
    proof = stored_document(parent, kind="proof_of_address", content=pdf_bytes(pages=3))
    file = submit(
        procedures.KEY,
        parent,
        answers(parent, child, address_proof="proof", proof_of_address=proof.public_id),
    )
    handling.transition(actor=clerk, file=file, key="accept")
    assert Enrolment.objects.get(child=child).school == south


def test_the_sworn_statement_must_be_made(town):
    commune, *_ = town
    parent, child = family(commune=commune)
    with pytest.raises(FieldErrors) as refused:
        submit(procedures.KEY, parent, answers(parent, child, sworn_statement=False))
    assert list(refused.value.errors) == ["sworn_statement"]


def test_only_the_documents_the_law_allows_are_asked():
    kinds = procedures.PRE_ENROLMENT.document_kinds()
    assert kinds == {"family_record_book", "identity_document", "proof_of_address", "other"}
    # "other" is only the derogation's supporting document, never required.
    derogation_document = procedures.PRE_ENROLMENT.field("derogation_document")
    assert derogation_document.required is False
    assert derogation_document.shown_when.values == ("derogation",)


@pytest.mark.parametrize(
    ("born", "level", "problem"),
    [
        (date(2025, 1, 10), "PS", "jeune"),  # two in 2027: too young for petite section
        (date(2022, 1, 10), "CP", "jeune"),  # five in 2027: too young for CP
        (date(2018, 6, 1), "CP", "âgé"),  # nine in 2027: too old for CP
    ],
)
def test_a_child_too_young_or_too_old_for_the_level_is_refused_naming_the_level(
    town, born, level, problem
):
    commune, *_ = town
    parent, child = family(commune=commune, child_born=born)
    with pytest.raises(FieldErrors) as refused:
        submit(procedures.KEY, parent, answers(parent, child, level=level))
    assert list(refused.value.errors) == ["level"]
    assert problem in refused.value.errors["level"]


def test_a_child_repeating_a_year_may_enter_the_level_a_year_late(town):
    commune, *_ = town
    parent, child = family(commune=commune, child_born=date(2022, 2, 1))
    file = submit(procedures.KEY, parent, answers(parent, child, level="MS"))
    assert file.state == "submitted"


def test_a_second_application_for_the_same_child_and_year_is_refused(town):
    commune, *_ = town
    parent, child = family(commune=commune)
    submit(procedures.KEY, parent, answers(parent, child))
    other_parent = PersonFactory(household=parent.household, user=UserFactory())
    Guardianship.objects.create(guardian=other_parent, child=child)
    with pytest.raises(FieldErrors) as refused:
        submit(
            procedures.KEY,
            other_parent,
            answers(
                other_parent,
                child,
                child_identity=document(other_parent, "family_record_book", pages=4),
                guardian_identity=document(other_parent, "identity_document", pages=5),
            ),
        )
    assert list(refused.value.errors) == ["child"]
    # The second guardian sees the first guardian's file, by name and day.
    assert parent.full_name in refused.value.errors["child"]
    assert "lundi 15 mars 2027" in refused.value.errors["child"]


def test_the_same_parent_applying_twice_for_the_child_is_refused_on_the_child(town, clerk):
    commune, *_ = town
    parent, child = family(line1="12 rue Nationale", commune=commune)
    file = submit(procedures.KEY, parent, answers(parent, child))
    handling.transition(actor=clerk, file=file, key="accept")
    with pytest.raises(FieldErrors) as refused:
        submit(procedures.KEY, parent, answers(parent, child))
    assert list(refused.value.errors) == ["child"]


def test_a_withdrawn_file_leaves_the_child_free_for_a_new_one(town):
    commune, *_ = town
    parent, child = family(commune=commune)
    file = submit(procedures.KEY, parent, answers(parent, child))
    handling.transition(actor=parent.user, file=file, key="withdraw")
    assert submit(procedures.KEY, parent, answers(parent, child)).state == "submitted"


def test_a_child_the_town_enrolled_at_the_counter_cannot_be_pre_enrolled_again(town):
    commune, north, _south = town
    parent, child = family(commune=commune)
    enrol_child(
        actor=staff_user("admin"),
        child=child,
        school=north,
        school_year=school_year(2027),
        level="PS",
    )
    with pytest.raises(FieldErrors) as refused:
        submit(procedures.KEY, parent, answers(parent, child))
    assert "déjà inscrit" in refused.value.errors["child"]


def test_an_address_outside_the_territory_is_refused_on_the_choice_of_school(town):
    parent, child = family(line1="3 rue de Paris", commune=CommuneFactory(territory=None))
    with pytest.raises(FieldErrors) as refused:
        submit(procedures.KEY, parent, answers(parent, child))
    assert list(refused.value.errors) == ["choice"]
    assert "hors du territoire" in refused.value.errors["choice"]


def test_a_family_outside_the_territory_may_ask_for_a_derogation(town):
    _commune, north, _south = town
    parent, child = family(line1="3 rue de Paris", commune=CommuneFactory(territory=None))
    file = submit(
        procedures.KEY,
        parent,
        answers(
            parent,
            child,
            choice="derogation",
            wanted_school=north.public_id,
            derogation_reason="work",
        ),
    )
    assert file.state == "submitted"


def test_a_derogation_without_a_reason_is_refused(town):
    commune, _north, south = town
    parent, child = family(commune=commune)
    with pytest.raises(FieldErrors) as refused:
        submit(
            procedures.KEY,
            parent,
            answers(parent, child, choice="derogation", wanted_school=south.public_id),
        )
    assert "derogation_reason" in refused.value.errors


def test_an_accepted_derogation_enrols_at_the_school_asked_for(town, clerk):
    commune, _north, south = town
    parent, child = family(line1="12 rue Nationale", commune=commune)
    file = submit(
        procedures.KEY,
        parent,
        answers(
            parent,
            child,
            choice="derogation",
            wanted_school=south.public_id,
            derogation_reason="siblings",
        ),
    )
    handling.transition(
        actor=clerk, file=file, key="accept", message="Accord de la commune d’accueil."
    )
    enrolment = Enrolment.objects.get(child=child)
    assert enrolment.school == south
    assert enrolment.derogation


def test_a_refused_derogation_records_the_other_communes_answer(town, clerk):
    commune, _north, south = town
    parent, child = family(commune=commune)
    file = submit(
        procedures.KEY,
        parent,
        answers(
            parent,
            child,
            choice="derogation",
            wanted_school=south.public_id,
            derogation_reason="work",
        ),
    )
    with pytest.raises(DomainError) as refused:
        handling.transition(actor=clerk, file=file, key="refuse_derogation")
    assert refused.value.field == "message"
    file = handling.transition(
        actor=clerk, file=file, key="refuse_derogation", message="Refus de la commune de Tillé."
    )
    assert file.state == "refused"
    assert file.events.filter(text="Refus de la commune de Tillé.").exists()
    assert not Enrolment.objects.exists()


def test_an_address_the_map_does_not_cover_is_a_data_error_not_a_silent_pick(town, clerk):
    commune, *_ = town
    parent, child = family(line1="5 rue des Lilas", commune=commune)
    street(commune, "Rue des Lilas")
    file = submit(procedures.KEY, parent, answers(parent, child))
    with pytest.raises(DomainError) as refused:
        handling.transition(actor=clerk, file=file, key="accept")
    assert refused.value.code == "not_in_map"
    file.refresh_from_db()
    assert file.state == "submitted"
    assert not Enrolment.objects.exists()


def test_places_per_school_and_level_against_accepted_files(town, clerk):
    commune, north, _south = town
    places(north, "PS", 1, year=2027)
    parent, child = family(line1="12 rue Nationale", commune=commune)
    handling.transition(
        actor=clerk,
        file=submit(procedures.KEY, parent, answers(parent, child)),
        key="accept",
    )
    [line] = places_against_accepted(2027)
    assert (line.school, line.level, line.places, line.accepted, line.full) == (
        north,
        "PS",
        1,
        1,
        True,
    )


def test_the_heads_list_is_audited_and_for_the_school_service_only(town, clerk):
    commune, north, _south = town
    parent, child = family(line1="12 rue Nationale", commune=commune)
    handling.transition(
        actor=clerk, file=submit(procedures.KEY, parent, answers(parent, child)), key="accept"
    )
    rows = read_school_list(actor=clerk, school=north, school_year=2027)
    assert [r.child for r in rows] == [child]
    assert AuditEntry.objects.filter(action="schools.list_read", actor=clerk).count() == 1
    with pytest.raises(Forbidden):
        read_school_list(actor=parent.user, school=north, school_year=2027)
    assert Person.objects.get(pk=child.pk)


def test_the_accepted_child_is_in_the_canteens_school_list_with_nothing_to_copy(town, clerk):
    commune, north, _south = town
    parent, child = family(line1="12 rue Nationale", commune=commune)
    handling.transition(
        actor=clerk, file=submit(procedures.KEY, parent, answers(parent, child)), key="accept"
    )
    # The canteen (and after-school care) read the town's one enrolment table.
    first_days = [date(2027, 9, 6), date(2027, 9, 7)]
    assert canteen_queries.enrolled_days(child, north.pk, first_days) == set(first_days)
    assert canteen_queries.enrolled_days(child, north.pk, [date(2027, 3, 16)]) == set()


def test_a_full_level_refuses_the_acceptance_with_its_reason_and_the_file_waits(town, clerk):
    commune, north, _south = town
    places(north, "PS", 1, year=2027)
    first, first_child = family(line1="12 rue Nationale", commune=commune)
    handling.transition(
        actor=clerk, file=submit(procedures.KEY, first, answers(first, first_child)), key="accept"
    )
    second, second_child = family(line1="14 rue Nationale", commune=commune)
    file = submit(procedures.KEY, second, answers(second, second_child))
    with pytest.raises(Conflict) as refused:
        handling.transition(actor=clerk, file=file, key="accept")
    assert refused.value.code == "school_full"
    assert "École du Nord" in refused.value.message
    assert "places\u00a0: 1, inscrits\u00a0: 1" in refused.value.message
    file.refresh_from_db()
    assert file.state == "submitted"
    assert not Enrolment.objects.filter(child=second_child).exists()
    # The service may still refuse the file, or raise the places (the audited override).
    SchoolPlaces.objects.filter(school=north, level="PS").update(places=2)
    assert handling.transition(actor=clerk, file=file, key="accept").state == "accepted"


def test_a_level_without_places_set_is_not_limited(town, clerk):
    commune, north, _south = town
    places(north, "MS", 0, year=2027)  # another level: PS has no places row
    parent, child = family(line1="12 rue Nationale", commune=commune)
    file = submit(procedures.KEY, parent, answers(parent, child))
    assert handling.transition(actor=clerk, file=file, key="accept").state == "accepted"


def test_a_school_year_the_town_has_not_set_up_refuses_the_acceptance(town, clerk):
    commune, *_ = town
    SchoolYear.objects.all().delete()
    parent, child = family(line1="12 rue Nationale", commune=commune)
    file = submit(procedures.KEY, parent, answers(parent, child))
    with pytest.raises(DomainError) as refused:
        handling.transition(actor=clerk, file=file, key="accept")
    assert refused.value.code == "no_school_year"
    assert "2027-2028" in refused.value.message
