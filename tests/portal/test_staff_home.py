"""The staff home says in words what each role may do, and links only to what it may open."""

import pytest
from django.urls import reverse

from identity.models import StaffRole
from tests.factories import staff_user

pytestmark = pytest.mark.django_db


def staff_home(client, role) -> str:
    client.force_login(staff_user(role))
    return client.get(reverse("portal:staff_home")).content.decode()


def test_an_administrator_reaches_the_trail_and_the_applications_tokens(client):
    page = staff_home(client, StaffRole.Role.ADMIN)
    assert f'href="{reverse("identity:audit_trail")}"' in page
    assert f'href="{reverse("identity:application_tokens")}"' in page
    assert "Consulter le journal d’audit" in page
    assert "view_audit_trail" not in page


def test_a_clerk_reads_what_the_role_allows_in_words_and_no_admin_link(client):
    page = staff_home(client, StaffRole.Role.CLERK)
    assert "Corriger le dossier d’un habitant" in page
    assert "edit_resident_file" not in page
    assert f'href="{reverse("identity:audit_trail")}"' not in page
    assert f'href="{reverse("identity:application_tokens")}"' not in page
