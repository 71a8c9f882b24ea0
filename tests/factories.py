"""Factories for the test suite: build what a test needs, nothing more."""

from datetime import date

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from identity.models import (
    Commune,
    Facility,
    Household,
    HouseholdAddress,
    Person,
    StaffRole,
    Territory,
    User,
)

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    first_name = factory.Faker("first_name", locale="fr_FR")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class TerritoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory

    name = "Grand Cahors"


class CommuneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commune

    territory = factory.SubFactory(TerritoryFactory)
    name = factory.Sequence(lambda n: f"Commune {n}")
    insee_code = factory.Sequence(lambda n: f"{46000 + n:05d}")
    postcode = "46000"


class FacilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Facility

    commune = factory.SubFactory(CommuneFactory)
    name = factory.Sequence(lambda n: f"Piscine {n}")
    kind = Facility.Kind.POOL


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HouseholdAddress

    household = factory.SubFactory(HouseholdFactory)
    line1 = "1 place François Mitterrand"
    postcode = "46000"
    commune = factory.SubFactory(CommuneFactory)
    valid_from = date(2020, 1, 1)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person
        skip_postgeneration_save = True

    household = factory.SubFactory(HouseholdFactory)
    role = Person.Role.ADULT
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    birth_date = date(1985, 5, 17)


class ResidentFactory(PersonFactory):
    """An adult with a login, an address and a household of their own."""

    user = factory.SubFactory(UserFactory)

    @factory.post_generation
    def address(self, create, extracted, **kwargs):
        if create:
            AddressFactory(household=self.household, **kwargs)


class StaffRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffRole

    user = factory.SubFactory(UserFactory)
    role = StaffRole.Role.CLERK
    facility = None


def with_totp(user: User) -> str:
    """Give a login a TOTP second factor; returns its secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def staff_user(role: str, *, facility: Facility | None = None, second_factor: bool = True) -> User:
    grant = StaffRoleFactory(role=role, facility=facility)
    if second_factor:
        with_totp(grant.user)
    return grant.user
