"""The clerk's resident file and its correction pages, in French: a file opens with a reason
(audited) and stays open a while for the corrections that follow; each correction page refuses
bad input next to its field, writing nothing."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from identity.models import (
    AuditEntry,
    FamilyQuotient,
    Guardianship,
    Person,
    ReducedRateStatus,
    StaffRole,
)
from tests.factories import (
    FamilyQuotientFactory,
    PersonFactory,
    staff_user,
)
from tests.identity.factories import two_addresses

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("on_25_november_2026")]

REASON = "Acte de naissance présenté"


@pytest.fixture
def clerk(client):
    user = staff_user(StaffRole.Role.CLERK)
    client.force_login(user)
    return user


def file_url(person) -> str:
    return reverse("identity:staff_file", args=[person.household.public_id])


def open_file(client, person):
    return client.post(file_url(person), {"reason": "counter"})


def identity_url(person) -> str:
    return reverse("identity:correct_identity", args=[person.household.public_id, person.public_id])


def corrections_done() -> int:
    return AuditEntry.objects.exclude(action="staff.file_viewed").count()


def test_the_file_opens_with_a_reason_and_stays_open_for_the_corrections(client, clerk, camille):
    assert "Camile" not in client.get(file_url(camille)).content.decode()
    opened = open_file(client, camille)
    page = opened.content.decode()
    assert "Dossier de l’habitant — Foyer de Camile Martin" in page
    assert "Corriger l’identité" in page
    assert AuditEntry.objects.filter(action="staff.file_viewed").count() == 1
    # Back from a correction, the file shows again without a new reason.
    again = client.get(file_url(camille)).content.decode()
    assert "Corriger l’identité" in again
    assert AuditEntry.objects.filter(action="staff.file_viewed").count() == 1


def test_a_correction_page_needs_the_file_opened_first(client, clerk, camille):
    response = client.get(identity_url(camille))
    assert response.status_code == 302
    assert response.url == file_url(camille)
    response = client.post(
        identity_url(camille),
        {"first_name": "X", "last_name": "Y", "birth_date": "1986-04-12", "reason": REASON},
    )
    assert response.status_code == 302
    camille.refresh_from_db()
    assert camille.first_name == "Camile"


def test_the_file_closes_after_half_an_hour(client, clerk, camille):
    open_file(client, camille)
    with time_machine.travel(date(2026, 11, 26), tick=False):
        assert "Corriger l’identité" not in client.get(file_url(camille)).content.decode()


def test_a_clerk_corrects_a_name_and_the_resident_reads_it(client, clerk, camille):
    open_file(client, camille)
    form = client.get(identity_url(camille))
    assert form.status_code == 200
    assert 'value="Camile"' in form.content.decode()

    done = client.post(
        identity_url(camille),
        {
            "first_name": "Camille",
            "last_name": "Martin",
            "birth_date": "1986-04-12",
            "reason": REASON,
        },
        follow=True,
    )

    assert "L’identité est corrigée" in done.content.decode()
    camille.refresh_from_db()
    assert camille.first_name == "Camille"
    client.force_login(camille.user)
    log = client.get(reverse("identity:file_accesses")).content.decode()
    assert "Identité corrigée" in log
    assert REASON in log
    assert "Prénom\u00a0: Camile → Camille" in log  # French typography: a non-breaking space
    assert "person.corrected" not in log


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"reason": ""}, "reason", "Indiquez le motif de cette correction."),
        (
            {"birth_date": "2030-01-01"},
            "birth_date",
            "La date de naissance ne peut pas être dans le futur.",
        ),
    ],
)
def test_bad_input_is_refused_next_to_its_field(client, clerk, camille, changes, field, message):
    open_file(client, camille)
    data = {"first_name": "Camille", "last_name": "Martin", "birth_date": "1986-04-12"}
    data |= {"reason": REASON} | changes
    response = client.post(identity_url(camille), data)
    assert response.status_code == 400
    assert message in response.context["form"].errors[field]
    assert message in response.content.decode()
    camille.refresh_from_db()
    assert camille.first_name == "Camile"
    assert corrections_done() == 0


def test_overlapping_address_periods_are_refused_naming_the_field(client, clerk, camille):
    old, new = two_addresses(camille, first_until=date(2025, 5, 1), second_from=date(2025, 5, 1))
    open_file(client, camille)
    url = reverse("identity:correct_address", args=[camille.household.public_id, old.pk])
    data = {
        "line1": old.line1,
        "postcode": "46000",
        "commune": old.commune.pk,
        "valid_from": "2020-01-01",
        "valid_until": "2025-08-01",
        "reason": "Date de déménagement erronée",
    }
    response = client.post(url, data)
    assert response.status_code == 400
    assert "chevauche" in response.context["form"].errors["valid_until"][0]
    assert corrections_done() == 0

    data["valid_until"] = "2025-04-15"
    client.post(url, data)
    new.refresh_from_db()
    old.refresh_from_db()
    assert old.valid_until == date(2025, 4, 15)
    assert AuditEntry.objects.get(action="household.address_corrected").changes == {
        "valid_until": ["2025-05-01", "2025-04-15"]
    }


def test_a_quotient_correction_keeps_the_old_declaration_visible_to_the_resident(
    client, clerk, camille
):
    wrong = FamilyQuotientFactory(
        household=camille.household,
        amount=1850,
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 12, 31),
        source="declared",
    )
    open_file(client, camille)
    url = reverse("identity:correct_quotient", args=[camille.household.public_id, wrong.pk])
    client.post(
        url,
        {
            "amount": 850,
            "valid_from": "2026-01-01",
            "valid_until": "2026-12-31",
            "reason": "Attestation CAF",
        },
    )
    assert FamilyQuotient.objects.count() == 2
    staff_page = client.get(file_url(camille)).content.decode()
    assert "<del>1850 €</del>" in staff_page
    client.force_login(camille.user)
    page = client.get(reverse("identity:household")).content.decode()
    assert "<del>1850 €</del>" in page
    assert "corrigé par la mairie" in page


def test_a_clerk_adds_then_ends_a_guardian_and_records_then_ends_a_reduced_rate(
    client, clerk, camille
):
    child = PersonFactory(household=camille.household, role=Person.Role.CHILD, first_name="Tom")
    partner = PersonFactory(household=camille.household, first_name="Alex", last_name="Martin")
    public_id = camille.household.public_id
    open_file(client, camille)

    client.post(
        reverse("identity:add_guardian", args=[public_id, child.public_id]),
        {"guardian": partner.pk, "reason": "Livret de famille"},
    )
    link = Guardianship.objects.get(child=child, guardian=partner)
    client.post(
        reverse("identity:end_guardianship", args=[public_id, link.pk]),
        {"reason": "Jugement du tribunal"},
    )
    link.refresh_from_db()
    assert link.ended_on == date(2026, 11, 25)

    client.post(
        reverse("identity:record_reduced_rate", args=[public_id, camille.public_id]),
        {"category": "student", "valid_from": "2026-09-01", "valid_until": "2027-08-31"},
    )
    status = ReducedRateStatus.objects.get(person=camille)
    refused = client.post(
        reverse("identity:end_reduced_rate", args=[public_id, status.pk]),
        {"last_day": "2027-09-30", "reason": "Fin d’études"},
    )
    assert "last_day" in refused.context["form"].errors
    client.post(
        reverse("identity:end_reduced_rate", args=[public_id, status.pk]),
        {"last_day": "2026-11-25", "reason": "Fin d’études"},
    )
    status.refresh_from_db()
    assert status.ended_on == date(2026, 11, 25)
    page = client.get(file_url(camille)).content.decode()
    assert "terminé par anticipation le 25/11/2026" in page
    assert list(
        AuditEntry.objects.exclude(action="staff.file_viewed")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == [
        "person.guardian_added",
        "person.guardian_ended",
        "person.reduced_rate_recorded",
        "person.reduced_rate_ended",
    ]


@pytest.mark.parametrize("role", ["pool_agent", "admin", "finance_officer"])
def test_other_staff_cannot_reach_the_correction_pages(client, camille, role):
    client.force_login(staff_user(role))
    assert client.get(identity_url(camille)).status_code == 403
    assert client.post(identity_url(camille), {"reason": REASON}).status_code == 403
    assert not AuditEntry.objects.exists()
