"""Small builders for the card pages' tests: people with children, photos made in memory,
browsers logged in, staff. Cards, readers, entitlements and what a chip emits are in
tests.factories, shared with the rest of the suite."""

import io
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from identity.models import Guardianship, Person, StaffRole
from tests.factories import FacilityFactory, PersonFactory, reading_english, staff_user

Role = StaffRole.Role


def photo_upload(
    name: str = "photo.jpg", *, fmt: str = "JPEG", size=(350, 450)
) -> SimpleUploadedFile:
    """A real image, as a browser uploads it."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (196, 164, 132)).save(buffer, fmt)
    content_type = "image/png" if fmt == "PNG" else f"image/{fmt.lower()}"
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


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
    return reading_english(client)


def visitor() -> Client:
    """Someone not logged in (a finder who tapped a card with their phone), in English."""
    return reading_english(Client())


def clerk():
    return staff_user(Role.CLERK)


def pool_agent():
    return staff_user(Role.POOL_AGENT, facility=FacilityFactory())
