"""The pages of justified absences: the guardian sees the days past their deadline, justifies
one with a certificate uploaded into the safe, and reads the decision; the clerk's queue (its
opening audited) links the certificate and accepts or refuses, a refusal needing a reason."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from identity.models import AuditEntry, StaffRole
from services.canteen.models import AbsenceReport
from tests.documents_vault.factories import pdf_bytes
from tests.factories import staff_user
from tests.services.canteen.test_absences import AFTER_DEADLINE, PARIS, booked  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


@time_machine.travel(AFTER_DEADLINE)
def test_the_guardian_justifies_a_day_past_its_deadline(booked, client):  # noqa: F811
    guardian, booking = booked
    client.force_login(guardian.user)
    page = client.get(reverse("canteen:absences")).content.decode()
    assert f'data-day="{booking.public_id}"' in page  # 3 December: its deadline passed
    assert "Thursday Dec. 3, 2026" in page  # ("jeudi 3 décembre 2026" in French)
    form = reverse("canteen:report_absence", args=[booking.public_id])
    empty = client.post(form, {"document": "new"})
    assert "Choose the file to add." in empty.content.decode()
    assert not AbsenceReport.objects.exists()
    sent = client.post(
        form,
        {"document": "new", "file": SimpleUploadedFile("certificat.pdf", pdf_bytes())},
        follow=True,
    )
    assert "The absence is reported" in sent.content.decode()
    report = AbsenceReport.objects.get()
    assert f'data-report="{report.public_id}"' in sent.content.decode()
    assert "Awaiting a decision" in sent.content.decode()


@time_machine.travel(AFTER_DEADLINE)
def test_another_household_cannot_justify_the_day(booked, client):  # noqa: F811
    _guardian, booking = booked
    from tests.services.canteen.factories import enrolled_child

    stranger, _child = enrolled_child(booking.service.site)
    client.force_login(stranger.user)
    answer = client.get(reverse("canteen:report_absence", args=[booking.public_id]))
    assert answer.status_code == 404


def test_the_clerk_decides_from_the_queue(booked, client):  # noqa: F811
    from services.canteen import absences

    guardian, booking = booked
    with time_machine.travel(AFTER_DEADLINE):
        report = absences.report_absence(
            actor=guardian.user, booking=booking, file_name="c.pdf", content=pdf_bytes()
        )
    clerk = staff_user(StaffRole.Role.CLERK)
    client.force_login(clerk)
    queue = client.get(reverse("canteen:absence_queue")).content.decode()
    assert f'data-report="{report.public_id}"' in queue
    assert "Read the medical certificate" in queue
    assert AuditEntry.objects.filter(action="canteen.absence_queue_opened").exists()
    decide = reverse("canteen:decide_absence", args=[report.public_id])
    no_reason = client.post(decide, {"decision": "refuse"}, follow=True)
    assert "Say why the absence is refused." in no_reason.content.decode()
    accepted = client.post(decide, {"decision": "accept"}, follow=True)
    assert "Absence accepted" in accepted.content.decode()
    assert AbsenceReport.objects.get().state == "accepted"
    assert "No absence awaits a decision." in accepted.content.decode()
    # What was decided stays on the queue for a month: who decided, and when.
    assert f'data-decided="{report.public_id}"' in accepted.content.decode()
    assert f"by {clerk.display_name}" in accepted.content.decode()
    with time_machine.travel(AbsenceReport.objects.get().decided_at + timedelta(days=31)):
        later = client.get(reverse("canteen:absence_queue")).content.decode()
    assert f'data-decided="{report.public_id}"' not in later


def test_the_queue_is_for_clerks(client):
    client.force_login(staff_user(StaffRole.Role.CANTEEN_AGENT))
    assert client.get(reverse("canteen:absence_queue")).status_code == 403


def test_a_day_before_its_deadline_is_not_offered(booked, client):  # noqa: F811
    guardian, booking = booked
    client.force_login(guardian.user)
    with time_machine.travel(datetime(2026, 12, 2, 14, tzinfo=PARIS)):
        page = client.get(reverse("canteen:absences")).content.decode()
    assert f'data-day="{booking.public_id}"' not in page
