"""Factories for the test suite: build what a test needs, nothing more."""

import json
import uuid
from datetime import date, time, timedelta

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.utils import timezone

from card import keys as card_keys
from card.actions.numbers import luhn_check_digit
from card.actions.readers import READER_TOKEN_LABEL
from card.models import Card, Reader
from identity import tokens
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
from ntag424 import sun
from services.catalog.models import AccessPoint, Entitlement

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


def site_administrator(role: str = StaffRole.Role.ADMIN) -> User:
    """Staff of `role` who also reach /admin/ (as the demo's administrator does)."""
    user = staff_user(role)
    user.is_staff = user.is_superuser = True
    user.save()
    return user


# --- Catalogue and cards --------------------------------------------------------------------
class AccessPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccessPoint

    facility = factory.SubFactory(FacilityFactory)
    name = "Entrée"
    kind = AccessPoint.Kind.ENTRANCE


def card_number(n: int) -> str:
    """The n-th card number of the territory: 9250, eleven digits, the Luhn check digit."""
    body = f"9250{n:011d}"
    return body + luhn_check_digit(body)


class CardFactory(factory.django.DjangoModelFactory):
    """An active NFC card with a chip UID, unless told otherwise."""

    class Meta:
        model = Card

    holder = factory.SubFactory(ResidentFactory)
    number = factory.Sequence(card_number)
    kind = Card.Kind.NFC
    status = Card.Status.ACTIVE
    uid = factory.Sequence(lambda n: f"04{n:012X}")
    expires_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=365 * 6))


class PhonePassFactory(CardFactory):
    """An active phone pass: no chip, and no expiry date (as issue_phone_pass makes them)."""

    kind = Card.Kind.PHONE
    uid = None
    expires_on = None


class EntitlementFactory(factory.django.DjangoModelFactory):
    """A 10-entry pool book valid this year, unless told otherwise (`entries=N`: an N-entry
    book, still full)."""

    class Meta:
        model = Entitlement

    class Params:
        entries = 10

    holder = factory.SubFactory(ResidentFactory)
    kind = Entitlement.Kind.ENTRIES
    facility_kind = Facility.Kind.POOL
    label = "Carnet 10 entrées"
    valid_from = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))
    valid_until = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=300))
    entries_total = factory.SelfAttribute("entries")
    entries_left = factory.SelfAttribute("entries")


class PassFactory(EntitlementFactory):
    kind = Entitlement.Kind.PASS
    label = "Pass annuel piscines"
    entries_total = None
    entries_left = None


def reader_with_token(
    *, access_point=None, facility: Facility | None = None, kind: str = Reader.Kind.GATE
) -> tuple[Reader, str]:
    """A registered reader (a gate at a pool entrance, unless told) and its bearer token."""
    new = tokens.new_token(READER_TOKEN_LABEL)
    if access_point is None:
        access_point = AccessPointFactory(**({"facility": facility} if facility else {}))
    reader = Reader.objects.create(
        name="Portique",
        kind=kind,
        access_point=access_point,
        token_prefix=new.prefix,
        token_hash=new.key_hash,
    )
    return reader, new.raw


def chip_url(uid: str, counter: int, *, base: str | None = None) -> str:
    """The URL a chip personalised by Sésame emits on its tap number `counter` (keys derived
    like the server's), at `base` (settings.SESAME_CARD_URL unless told)."""
    raw = bytes.fromhex(uid)
    return sun.build_sun_url(
        base or settings.SESAME_CARD_URL,
        meta_read_key=card_keys.meta_read_key(),
        file_read_key=card_keys.card_file_read_key(raw),
        uid=raw,
        counter=counter,
    )


def sun_url(card: Card, counter: int) -> str:
    """What the card emits on its tap number `counter`, at the test address of the cards."""
    return chip_url(card.uid, counter, base="https://sesame.example.fr/c/")


# --- A reader's requests --------------------------------------------------------------------
def bearer(token: str) -> dict:
    """The header a reader authenticates with."""
    return {"Authorization": f"Bearer {token}"}


def post_tap(client, token: str | None, **body):
    """POST /api/v1/taps as a reader does: a fresh tap id and the reader's clock unless told;
    no Authorization header without a token."""
    body.setdefault("tap_id", str(uuid.uuid4()))
    body.setdefault("reader_time", timezone.now().isoformat())
    return client.post(
        "/api/v1/taps",
        json.dumps(body),
        content_type="application/json",
        headers=bearer(token) if token else {},
    )


# --- Catalogue: opening hours, closures, limits ---------------------------------------------
# Models named by label so this block needs no import above (other blocks keep theirs).
class FacilityAccessRulesFactory(factory.django.DjangoModelFactory):
    """A pool holding 250 people with a four-hour anti-passback, unless told otherwise."""

    class Meta:
        model = "catalog.FacilityAccessRules"

    facility = factory.SubFactory(FacilityFactory)
    max_occupancy = 250
    anti_passback_minutes = 240


class OpeningHoursFactory(factory.django.DjangoModelFactory):
    """One slot of the normal weekly schedule: Monday 12:00–13:45, unless told otherwise."""

    class Meta:
        model = "catalog.OpeningHours"

    facility = factory.SubFactory(FacilityFactory)
    schedule = "normal"
    weekday = 0
    opens = time(12, 0)
    closes = time(13, 45)


class FacilityClosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.FacilityClosure"

    facility = factory.SubFactory(FacilityFactory)
    starts_at = factory.LazyFunction(timezone.now)
    ends_at = factory.LazyAttribute(lambda closure: closure.starts_at + timedelta(days=1))
    reason = "Vidange annuelle"


class SchoolYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "identity.SchoolYear"
        django_get_or_create = ("name",)

    name = "2026-2027"
    starts_on = date(2026, 9, 1)
    ends_on = date(2027, 7, 3)
    zone = "C"


class SchoolHolidayFactory(factory.django.DjangoModelFactory):
    """School holidays of identity's school calendar (the one table services read)."""

    class Meta:
        model = "identity.SchoolHoliday"

    school_year = factory.SubFactory(SchoolYearFactory)
    name = "Vacances de Noël 2026"
    starts_on = date(2026, 12, 19)
    classes_resume_on = date(2027, 1, 4)


# --- Catalogue: products and tariffs; identity: reduced-rate statuses -----------------------
# Rows built directly, without the actions' checks: tests of those checks call the actions.
class ProductFactory(factory.django.DjangoModelFactory):
    """A single pool entry valid on the day of the sale, unless told otherwise."""

    class Meta:
        model = "catalog.Product"

    code = factory.Sequence(lambda n: f"produit-{n}")
    name = factory.Sequence(lambda n: f"Entrée piscine {n}")
    facility_kind = Facility.Kind.POOL
    kind = "single_entry"
    validity_days = 1


class TariffGridFactory(factory.django.DjangoModelFactory):
    """A grid in force from 1 September 2025 with no end, unless told otherwise."""

    class Meta:
        model = "catalog.TariffGrid"

    product = factory.SubFactory(ProductFactory)
    valid_from = date(2025, 9, 1)
    valid_until = None


class TariffLineFactory(factory.django.DjangoModelFactory):
    """Everyone's price, 5 €, unless told otherwise."""

    class Meta:
        model = "catalog.TariffLine"

    grid = factory.SubFactory(TariffGridFactory)
    residency = "any"
    age_bracket = "any"
    qf_bracket = None
    reduced_category = "any"
    price_cents = 500


class QuotientBracketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.QuotientBracket"
        django_get_or_create = ("valid_from", "number")

    number = 1
    label = factory.LazyAttribute(lambda bracket: f"QF {bracket.number}")
    max_amount = 500
    valid_from = date(2025, 9, 1)


def quotient_brackets(valid_from: date = date(2025, 9, 1)) -> None:
    """The territory's table: QF1 ≤ 500 €, QF2 ≤ 900 €, QF3 ≤ 1400 €, QF4 above."""
    for number, max_amount in [(1, 500), (2, 900), (3, 1400), (4, None)]:
        QuotientBracketFactory(number=number, max_amount=max_amount, valid_from=valid_from)


class FamilyQuotientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "identity.FamilyQuotient"

    household = factory.SubFactory(HouseholdFactory)
    amount = 450
    valid_from = date(2025, 1, 1)
    valid_until = date(2025, 12, 31)
    source = "verified"


class ReducedRateStatusFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "identity.ReducedRateStatus"

    person = factory.SubFactory(PersonFactory)
    category = "student"
    valid_from = date(2025, 9, 1)
    valid_until = date(2026, 8, 31)
    verified_by = factory.SubFactory(UserFactory)


def reading_english(client):
    """The language switch set to English on a test client (pages default to French)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- catalogue sales and lessons ------------------------------------------------------------
# Models named by label, like the blocks above.
class LessonProductFactory(ProductFactory):
    """A swimming-lesson product (priced by its grid; valid on the sessions' days)."""

    code = factory.Sequence(lambda n: f"cours-natation-{n}")
    name = factory.Sequence(lambda n: f"Cours de natation {n}")
    kind = "lesson"
    validity_days = None


class LessonCourseFactory(factory.django.DjangoModelFactory):
    """A course of 3 places at a pool; `sessions=N` (default 1) weekly sessions from `starts`
    (default: in a week, 10:00 local time). Its product costs 60 € to everyone."""

    class Meta:
        model = "pools.LessonCourse"
        skip_postgeneration_save = True

    product = factory.SubFactory(LessonProductFactory)
    facility = factory.SubFactory(FacilityFactory)
    name = factory.Sequence(lambda n: f"Stage de natation {n}")
    places = 3

    @factory.post_generation
    def sessions(self, create, extracted, **kwargs):
        if not create:
            return
        from services.pools.models import LessonSession

        starts = kwargs.get("starts") or timezone.localtime().replace(
            hour=10, minute=0, second=0, microsecond=0
        ) + timedelta(days=7)
        for week in range(extracted or 1):
            start = starts + timedelta(weeks=week)
            LessonSession.objects.create(
                course=self, starts_at=start, ends_at=start + timedelta(minutes=45)
            )
        if not self.product.grids.exists():
            TariffLineFactory(grid__product=self.product, price_cents=6000)


def priced_product(*, price_cents: int = 500, **product):
    """A catalogue product with one grid (in force since 1 September 2025) charging everyone
    `price_cents`."""
    line = TariffLineFactory(grid__product=ProductFactory(**product), price_cents=price_cents)
    return line.grid.product


def guardian_and_child(*, child_birth_date: date | None = None) -> tuple[Person, Person]:
    """A resident adult with a login and their child (a guardianship), same household."""
    from identity.models import Guardianship

    adult = ResidentFactory()
    child = PersonFactory(
        household=adult.household,
        role=Person.Role.CHILD,
        birth_date=child_birth_date or date(2016, 5, 17),
    )
    Guardianship.objects.create(guardian=adult, child=child)
    return adult, child


def collection_office(code: str = "piscines"):
    """A régie of payments (the collection office a product's sales are paid to)."""
    from payments.models import Regie

    regie, _created = Regie.objects.get_or_create(
        code=code,
        defaults={
            "name": f"Régie {code}",
            "collectivite": "Grand Cahors",
            "address_line1": "72 rue Wilson",
            "postcode": "46000",
            "city": "Cahors",
            "siret": "20002451400017",
        },
    )
    return regie
