"""What a resident sees of the messages sent to them, and what the IT administrators see of the
delivery: counts per subject and channel, the failures, never a message or an address."""

import pytest
from django.urls import reverse

from identity.models import StaffRole
from identity.notifications import notify
from identity.notifications.models import Notification
from tests.factories import ResidentFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db(transaction=True)

MINE = reverse("identity:my_messages")
DELIVERY = reverse("identity:notification_delivery")


def accepted(user, **extra):
    return notify(
        recipient=user,
        topic="procedures.state_changed",
        subject="Votre demande d’acte de naissance est acceptée",
        body="Bonjour Camille, votre demande est acceptée.",
        link="/mon-espace/",
        **extra,
    )


def test_a_resident_sees_their_messages_with_date_and_status_only_theirs(client):
    camille, other = ResidentFactory().user, UserFactory()
    accepted(camille)
    notify(recipient=other, topic="appointments.reminder", subject="Rappel : RDV", body="…")
    client.force_login(camille)
    page = client.get(MINE).content.decode()
    assert "Votre demande d’acte de naissance est acceptée" in page
    assert "Rappel : RDV" not in page
    assert "Envoyé" in page
    assert "Démarches en ligne" in page
    assert "procedures.state_changed" not in page


def test_the_administrator_sees_counts_per_topic_and_failures_without_messages(client):
    camille = ResidentFactory().user
    accepted(camille)
    accepted(UserFactory())
    [failed] = accepted(UserFactory())
    Notification.objects.filter(pk=failed.pk).update(
        status="failed", attempts=5, last_error="email backend: SMTPServerDisconnected"
    )
    client.force_login(staff_user(StaffRole.Role.ADMIN))
    response = client.get(DELIVERY)
    assert response.status_code == 200
    [row] = response.context["topics"]
    assert (row.total, row.sent, row.failed, row.pending) == (3, 2, 1, 0)
    page = response.content.decode()
    assert "Le serveur de messagerie n’a pas pu être joint." in page
    assert 'data-error="email backend: SMTPServerDisconnected"' in page
    assert "Bonjour Camille" not in page
    assert "acceptée" not in page
    assert camille.email not in page


@pytest.mark.parametrize("role", [StaffRole.Role.CLERK, StaffRole.Role.FINANCE_OFFICER])
def test_other_roles_and_residents_may_not(client, role):
    client.force_login(staff_user(role))
    assert client.get(DELIVERY).status_code == 403
    client.force_login(ResidentFactory().user)
    assert client.get(DELIVERY).status_code == 403
