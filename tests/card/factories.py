"""Small builders for the card pages' tests: people with children, photos made in memory,
cards at any step, a gate reader, what a chip emits."""

import io
from datetime import date, timedelta

import factory
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from card import keys, sun
from card.actions import luhn_check_digit
from card.models import Card, Reader
from identity import tokens
from identity.models import Facility, Guardianship, Person, StaffRole
from services.catalog.models import AccessPoint, Entitlement
from tests.factories import FacilityFactory, PersonFactory, ResidentFactory, staff_user

Role = StaffRole.Role


def photo_upload(
    name: str = "photo.jpg", *, fmt: str = "JPEG", size=(350, 450)
) -> SimpleUploadedFile:
    """A real image, as a browser uploads it."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (196, 164, 132)).save(buffer, fmt)
    content_type = "image/png" if fmt == "PNG" else f"image/{fmt.lower()}"
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


def _number(n: int) -> str:
    body = f"9250{n + 7000:011d}"
    return body + luhn_check_digit(body)


class CardFactory(factory.django.DjangoModelFactory):
    """An active NFC card with a chip, valid six years, unless told otherwise."""

    class Meta:
        model = Card

    holder = factory.SubFactory(ResidentFactory)
    number = factory.Sequence(_number)
    kind = Card.Kind.NFC
    status = Card.Status.ACTIVE
    uid = factory.Sequence(lambda n: f"05{n + 7000:012X}")
    expires_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=6 * 365))


class PhonePassFactory(CardFactory):
    kind = Card.Kind.PHONE
    uid = None
    expires_on = None


def child_of(guardian: Person, **fields) -> Person:
    """A child of the guardian's household, without a login, in the guardian's care."""
    child = PersonFactory(
        household=guardian.household,
        role=Person.Role.CHILD,
        birth_date=date(2016, 9, 1),
        last_name=guardian.last_name,
        **fields,
    )
    Guardianship.objects.create(guardian=guardian, child=child)
    return child


def logged_in(user) -> Client:
    """A browser logged in as `user`, reading the pages in English (the source strings: the
    French catalogue is filled separately)."""
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def visitor() -> Client:
    """Someone not logged in (a finder who tapped a card with their phone), in English."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def clerk():
    return staff_user(Role.CLERK)


def pool_agent():
    return staff_user(Role.POOL_AGENT, facility=FacilityFactory())


def gate_reader() -> Reader:
    """A turnstile at a pool entrance."""
    point = AccessPoint.objects.create(
        facility=FacilityFactory(), name="Entrée", kind=AccessPoint.Kind.ENTRANCE
    )
    new = tokens.new_token("rdr")
    return Reader.objects.create(
        name="Portique",
        kind=Reader.Kind.GATE,
        access_point=point,
        token_prefix=new.prefix,
        token_hash=new.key_hash,
    )


def pool_season_pass(holder: Person) -> Entitlement:
    today = timezone.localdate()
    return Entitlement.objects.create(
        holder=holder,
        kind=Entitlement.Kind.PASS,
        facility_kind=Facility.Kind.POOL,
        label="Pass annuel piscines",
        valid_from=today - timedelta(days=1),
        valid_until=today + timedelta(days=300),
    )


def chip_url(uid: str, counter: int, *, base: str | None = None) -> str:
    """The URL a chip personalised by Sésame emits on its tap number `counter`."""
    raw = bytes.fromhex(uid)
    return sun.build_sun_url(
        base or settings.SESAME_CARD_URL,
        meta_read_key=keys.meta_read_key(),
        file_read_key=keys.card_file_read_key(raw),
        uid=raw,
        counter=counter,
    )
