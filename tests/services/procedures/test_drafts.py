"""A resident's request from its first step to its submission."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from identity.errors import Conflict
from identity.models import AuditEntry
from services.procedures.actions import drafts
from services.procedures.errors import AlreadyOpen, FieldErrors
from services.procedures.models import ProcedureFile
from tests.documents_vault.factories import stored_document
from tests.factories import CommuneFactory, PersonFactory, ResidentFactory

from .factories import SAMPLE, filled_draft, submitted

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def resident():
    return ResidentFactory()


@pytest.fixture
def draft(resident):
    """A fresh draft of the sample request, prefilled with what the town knows."""
    return drafts.start_draft(actor=resident.user, type_key=SAMPLE)


@pytest.fixture
def identity_card(resident):
    return stored_document(resident, kind="identity_document")


def test_a_draft_starts_with_what_the_town_knows(resident, draft):
    assert draft.state == "draft"
    assert draft.data["last_name"] == resident.last_name
    assert draft.data["birth_date"] == resident.birth_date.isoformat()
    assert draft.data["address"]["line1"] == "1 place François Mitterrand"
    assert AuditEntry.objects.filter(action="procedure.started", person=resident).exists()


def test_starting_again_resumes_the_draft_on_any_device(resident, draft):
    drafts.save_step(
        actor=resident.user,
        file=draft,
        step="what",
        values={"delivery": "email", "copies": "3"},
    )
    again = drafts.start_draft(actor=resident.user, type_key=SAMPLE)
    assert again.pk == draft.pk
    assert again.data["copies"] == 3
    assert again.step == "what"


def test_each_refused_answer_names_its_field_and_nothing_is_saved(resident, draft):
    with pytest.raises(FieldErrors) as refused:
        drafts.save_step(
            actor=resident.user,
            file=draft,
            step="who",
            values={"last_name": "", "birth_date": "01/01/2999", "member": "someone-else"},
        )
    assert set(refused.value.errors) == {"last_name", "birth_date", "member"}
    assert "futur" in refused.value.errors["birth_date"]
    draft.refresh_from_db()
    assert draft.data["last_name"] == resident.last_name  # the prefilled value is kept
    assert draft.step == ""


def test_a_member_of_another_household_is_refused(resident, draft):
    stranger = PersonFactory()
    with pytest.raises(FieldErrors) as refused:
        drafts.save_step(
            actor=resident.user,
            file=draft,
            step="who",
            values={"last_name": "X", "birth_date": "1985-05-17", "member": stranger.public_id},
        )
    assert list(refused.value.errors) == ["member"]


def test_a_phone_number_that_is_not_one_is_refused_in_its_line(resident, draft):
    with pytest.raises(FieldErrors) as refused:
        drafts.save_step(
            actor=resident.user,
            file=draft,
            step="what",
            values={
                "delivery": "email",
                "copies": 1,
                "contacts": [{"phone": "06 12 34 56 78"}, {"phone": "12345"}],
            },
        )
    assert "Ligne 2" in refused.value.errors["contacts"]


def test_phone_numbers_are_stored_in_one_form(resident, draft):
    draft = drafts.save_step(
        actor=resident.user,
        file=draft,
        step="what",
        values={"delivery": "email", "copies": 1, "contacts": [{"phone": "06.12.34.56.78"}]},
    )
    assert draft.data["contacts"] == [{"phone": "+33612345678"}]


def test_a_field_shown_only_for_an_answer_is_asked_then_and_dropped_otherwise(resident, draft):
    with pytest.raises(FieldErrors) as refused:
        drafts.save_step(
            actor=resident.user,
            file=draft,
            step="what",
            values={"delivery": "post", "copies": 1, "address": None},
        )
    assert list(refused.value.errors) == ["address"]
    draft = drafts.save_step(
        actor=resident.user, file=draft, step="what", values={"delivery": "email", "copies": 1}
    )
    assert "address" not in draft.data


def test_an_address_outside_the_territory_is_refused(resident, draft):
    outside = CommuneFactory(territory=None, insee_code="75056", name="Paris")
    with pytest.raises(FieldErrors) as refused:
        drafts.save_step(
            actor=resident.user,
            file=draft,
            step="what",
            values={
                "delivery": "post",
                "copies": 1,
                "address": {"line1": "1 rue de Rivoli", "postcode": "75001", "commune": "75056"},
            },
        )
    assert "hors du territoire" in refused.value.errors["address"]
    assert outside.pk


def test_a_document_of_the_wrong_kind_or_household_is_refused(resident, draft):
    wrong_kind = stored_document(resident, kind="tax_notice")
    neighbour = ResidentFactory()
    theirs = stored_document(neighbour, kind="identity_document")
    for document in (wrong_kind, theirs):
        with pytest.raises(FieldErrors) as refused:
            drafts.save_step(
                actor=resident.user,
                file=draft,
                step="documents",
                values={"identity": document.public_id},
            )
        assert list(refused.value.errors) == ["identity"]


def test_a_new_upload_goes_into_the_safe_and_is_never_asked_again(resident, draft):
    from tests.documents_vault.factories import pdf_bytes

    draft = drafts.save_step(
        actor=resident.user,
        file=draft,
        step="documents",
        values={},
        uploads={"identity": ("carte.pdf", pdf_bytes())},
    )
    from documents_vault.models import Document

    document = Document.objects.get(public_id=draft.data["identity"])
    assert document.kind == "identity_document"
    assert document.household_id == resident.household_id


def test_submitting_checks_everything_shares_the_documents_and_starts_the_deadline(
    resident, identity_card
):
    with time_machine.travel(datetime(2026, 3, 2, 10, tzinfo=PARIS), tick=False):
        file = submitted(resident, identity_card)
    assert file.state == "submitted"
    assert file.is_open
    assert file.due_on == date(2026, 3, 17)  # the type's 15 days
    share = identity_card.shares.get()
    assert share.target_kind == "procedure"
    assert share.target_id == file.public_id
    assert [e.kind for e in file.events.all()] == ["created", "submitted"]
    assert AuditEntry.objects.filter(action="procedure.submitted", person=resident).exists()


def test_a_draft_missing_a_required_answer_is_not_submitted(resident, draft):
    with pytest.raises(FieldErrors) as refused:
        drafts.submit(actor=resident.user, file=draft)
    assert {"member", "delivery", "copies", "identity"} <= set(refused.value.errors)
    draft.refresh_from_db()
    assert draft.state == "draft"


def test_the_types_checks_between_fields_run_at_submission(resident, identity_card):
    file = filled_draft(resident, identity_card)
    drafts.save_step(
        actor=resident.user,
        file=file,
        step="what",
        values={
            "delivery": "email",
            "copies": 1,
            "contacts": [{"phone": "0612345678"}, {"phone": "+33612345678"}],
        },
    )
    with pytest.raises(FieldErrors) as refused:
        drafts.submit(actor=resident.user, file=file)
    assert list(refused.value.errors) == ["contacts"]


def test_the_second_request_of_the_same_kind_shows_the_first(resident, identity_card):
    first = submitted(resident, identity_card)
    second = filled_draft(resident, identity_card)
    with pytest.raises(AlreadyOpen) as refused:
        drafts.submit(actor=resident.user, file=second)
    assert refused.value.existing == first.public_id
    assert refused.value.as_dict()["code"] == "already_open"
    second.refresh_from_db()
    assert second.state == "draft"


def test_a_submitted_file_is_not_submitted_again(resident, identity_card):
    file = submitted(resident, identity_card)
    with pytest.raises(Conflict) as refused:
        drafts.submit(actor=resident.user, file=file)
    assert refused.value.code == "wrong_state"


def test_another_resident_cannot_touch_the_draft(resident, draft):
    other = ResidentFactory()
    from identity.errors import NotFound

    with pytest.raises(NotFound):
        drafts.save_step(actor=other.user, file=draft, step="what", values={})


def test_giving_up_a_draft_deletes_it(resident, draft):
    drafts.delete_draft(actor=resident.user, file=draft)
    assert not ProcedureFile.objects.filter(pk=draft.pk).exists()
    assert AuditEntry.objects.filter(action="procedure.draft_deleted").exists()


def test_an_address_is_checked_against_the_communes_streets_once_imported(resident, draft):
    from identity.actions.streets import import_streets

    commune = resident.household.addresses.get().commune

    def post_to(line1):
        return drafts.save_step(
            actor=resident.user,
            file=draft,
            step="what",
            values={
                "delivery": "post",
                "copies": 1,
                "address": {"line1": line1, "postcode": "46000", "commune": commune.insee_code},
            },
        )

    post_to("5 rue Imaginaire")  # no street list for the commune yet: not checked
    import_streets(actor=None, commune=commune, names=["Place François Mitterrand"])
    with pytest.raises(FieldErrors) as refused:
        post_to("5 rue Imaginaire")
    assert "n’existe pas" in refused.value.errors["address"]
    assert post_to("1 pl. François-Mitterrand").data["address"]["line1"].startswith("1 pl.")


def test_a_prefilled_answer_waiting_for_its_condition_is_kept_through_earlier_steps(
    resident, draft
):
    draft = drafts.save_step(
        actor=resident.user,
        file=draft,
        step="who",
        values={"last_name": "X", "birth_date": "1985-05-17", "member": resident.public_id},
    )
    assert draft.data["address"]["line1"] == "1 place François Mitterrand"  # delivery not chosen
    draft = drafts.save_step(
        actor=resident.user, file=draft, step="what", values={"delivery": "email", "copies": 1}
    )
    assert "address" not in draft.data  # now hidden by the answer
