"""A new installation's first administrator, made from the command line: a town-wide
administrator with a verified address, audited; refused once an administrator exists."""

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.utils import translation

from identity.models import AuditEntry, StaffRole, User
from identity.permissions import Capability, has_capability, manages_staff_at
from tests.factories import staff_user

pytestmark = pytest.mark.django_db

PASSWORD = "Un-mot-de-passe-solide-2026"


def create(email="dsi@ville.example.fr"):
    out = io.StringIO()
    call_command(
        "create_first_administrator",
        email,
        "--first-name=Dominique",
        "--last-name=Roux",
        "--password-stdin",
        stdout=out,
    )
    return out.getvalue()


def test_the_first_administrator_manages_every_facility(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert "created" in create()
    user = User.objects.get(email="dsi@ville.example.fr")
    assert user.first_name == "Dominique"
    assert authenticate(email="dsi@ville.example.fr", password=PASSWORD) == user
    assert user.emailaddress_set.get().verified
    assert has_capability(user, Capability.MANAGE_STAFF)
    assert manages_staff_at(user, None)
    entry = AuditEntry.objects.get(action="staff.role_granted")
    assert entry.actor is None
    assert entry.channel == AuditEntry.Channel.SYSTEM


def test_refused_once_an_administrator_exists(monkeypatch):
    staff_user(StaffRole.Role.ADMIN)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    with translation.override("en"), pytest.raises(CommandError, match="exists already"):
        create()
    assert not User.objects.filter(email="dsi@ville.example.fr").exists()


def test_a_weak_password_is_refused(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("1234\n"))
    with pytest.raises(CommandError):
        create()
    assert not StaffRole.objects.exists()
