"""The demo territory: Grand Cahors with two member communes and one outside, its facilities,
a resident family and one account per staff role. Used by `make run`; idempotent."""

import base64
import hashlib
from dataclasses import dataclass
from datetime import date

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.db import transaction
from django.utils import timezone

from .actions.household import (
    AddressInput,
    add_household_member,
    declare_family_quotient,
    register_resident,
)
from .actions.staff import grant_staff_role
from .models import Commune, Facility, Person, StaffRole, Territory, User
from .notifications.actions import give_sms_consent

DEMO_PASSWORD = "sesame-demo-2026"  # noqa: S105 - printed on purpose, demo only
RESIDENT_EMAIL = "camille.martin@demo.sesame.fr"
ADMIN_EMAIL = "admin@demo.sesame.fr"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    label: str
    totp_secret: str | None = None


def demo_totp_secret(email: str) -> str:
    """A fixed per-account secret so the printed demo instructions stay valid across reloads."""
    digest = hashlib.sha256(f"sesame-demo-totp:{email}".encode()).digest()[:20]
    return base64.b32encode(digest).decode()


STAFF = [
    (
        "agent.piscine@demo.sesame.fr",
        "Lucas",
        "Pool agent",
        StaffRole.Role.POOL_AGENT,
        "Piscine de Cahors",
    ),
    (
        "bibliotheque@demo.sesame.fr",
        "Inès",
        "Librarian",
        StaffRole.Role.LIBRARIAN,
        "Médiathèque du Grand Cahors",
    ),
    (
        "cantine@demo.sesame.fr",
        "Nadia",
        "Canteen agent",
        StaffRole.Role.CANTEEN_AGENT,
        "École Lucie-Aubrac",
    ),
    (
        "direction.lucie-aubrac@demo.sesame.fr",
        "Hélène",
        "School head",
        StaffRole.Role.SCHOOL_HEAD,
        "École Lucie-Aubrac",
    ),
    ("accueil@demo.sesame.fr", "Paul", "Town-hall clerk", StaffRole.Role.CLERK, "Mairie de Cahors"),
    ("regisseur@demo.sesame.fr", "Sophie", "Finance officer", StaffRole.Role.FINANCE_OFFICER, None),
    (ADMIN_EMAIL, "Claire", "Administrator", StaffRole.Role.ADMIN, None),
]


def _login(email: str, first_name: str, **extra) -> User:
    user = User.objects.create_user(
        email=email, password=DEMO_PASSWORD, first_name=first_name, **extra
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


@transaction.atomic
def load() -> list[DemoAccount]:
    if Territory.objects.exists():
        return accounts()
    territory = Territory.objects.create(name="Grand Cahors", siren="200023737")
    cahors = Commune.objects.create(
        territory=territory, name="Cahors", insee_code="46042", postcode="46000"
    )
    pradines = Commune.objects.create(
        territory=territory, name="Pradines", insee_code="46224", postcode="46090"
    )
    Commune.objects.create(territory=None, name="Figeac", insee_code="46102", postcode="46100")
    facilities = {
        f.name: f
        for f in [
            Facility.objects.create(
                commune=cahors, name="Piscine de Cahors", kind=Facility.Kind.POOL
            ),
            Facility.objects.create(
                commune=pradines, name="Piscine de Pradines", kind=Facility.Kind.POOL
            ),
            Facility.objects.create(
                commune=cahors, name="Médiathèque du Grand Cahors", kind=Facility.Kind.LIBRARY
            ),
            Facility.objects.create(
                commune=cahors, name="Mairie de Cahors", kind=Facility.Kind.TOWN_HALL
            ),
            Facility.objects.create(
                commune=cahors, name="École Lucie-Aubrac", kind=Facility.Kind.SCHOOL
            ),
        ]
    }

    # Staff: the administrator first, so that it grants the other roles through the action.
    admin_email, admin_name, _label, admin_role, _facility = STAFF[-1]
    admin = _login(admin_email, admin_name, is_staff=True, is_superuser=True)
    StaffRole.objects.create(user=admin, role=admin_role)
    for email, first_name, _label, role, facility_name in STAFF[:-1]:
        user = _login(email, first_name)
        grant_staff_role(
            actor=admin,
            user=user,
            role=role,
            facility=facilities[facility_name] if facility_name else None,
        )
    for email, *_rest in STAFF:
        user = User.objects.get(email=email)
        TOTP.activate(user, demo_totp_secret(email))
        RecoveryCodes.activate(user)

    # A resident family in Cahors: two adults, two children, a family quotient.
    parent = _login(RESIDENT_EMAIL, "Camille")
    today = timezone.localdate()
    person = register_resident(
        user=parent,
        first_name="Camille",
        last_name="Martin",
        birth_date=date(1986, 4, 12),
        address=AddressInput(
            line1="12 rue du Château du Roi", line2="", postcode="46000", commune=cahors
        ),
        moved_in=date(2019, 9, 1),
    )
    household = person.household
    for role, first_name, birth in [
        (Person.Role.ADULT, "Alex", date(1984, 11, 3)),
        (Person.Role.CHILD, "Léa", date(2015, 6, 21)),
        (Person.Role.CHILD, "Tom", date(2019, 2, 8)),
    ]:
        add_household_member(
            actor=parent,
            household=household,
            role=role,
            first_name=first_name,
            last_name="Martin",
            birth_date=birth,
        )
    declare_family_quotient(
        actor=parent,
        household=household,
        amount=850,
        valid_from=date(today.year, 1, 1),
        valid_until=date(today.year, 12, 31),
    )
    # Camille gets SMS too: the confirmation is the first message of Mes messages.
    give_sms_consent(actor=parent, mobile_number="06 12 34 56 78")
    return accounts()


def accounts() -> list[DemoAccount]:
    rows = [DemoAccount(RESIDENT_EMAIL, "Resident parent (Camille Martin, Cahors)")]
    for email, _first, label, _role, facility in STAFF:
        if Authenticator.objects.filter(user__email=email, type=Authenticator.Type.TOTP).exists():
            where = f" — {facility}" if facility else ""
            rows.append(DemoAccount(email, f"{label}{where}", demo_totp_secret(email)))
    return rows
