"""Small builders for the card pages' tests: people with children, photos made in memory,
browsers logged in, staff. Cards, readers, entitlements and what a chip emits are in
tests.factories, shared with the rest of the suite."""

import io
import struct
import zlib
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from identity.models import Guardianship, Person, StaffRole
from tests.factories import FacilityFactory, PersonFactory, reading_english, staff_user

Role = StaffRole.Role


def photo_upload(
    name: str = "photo.jpg", *, fmt: str = "JPEG", size=(350, 450), exif: Image.Exif | None = None
) -> SimpleUploadedFile:
    """A real image, as a browser uploads it (with the camera's EXIF metadata, if given)."""
    buffer = io.BytesIO()
    extra = {"exif": exif} if exif is not None else {}
    Image.new("RGB", size, (196, 164, 132)).save(buffer, fmt, **extra)
    content_type = "image/png" if fmt == "PNG" else f"image/{fmt.lower()}"
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


def new_photo(upload: SimpleUploadedFile | None = None) -> dict:
    """The card request page's answer with a new photo (it goes into the holder's documents)."""
    return {"document": "new", "file": upload if upload is not None else photo_upload()}


def blank_png_upload(width: int, height: int, name: str = "photo.png") -> SimpleUploadedFile:
    """A PNG declaring width × height black-and-white pixels, all blank: a few kilobytes on
    disk (20000 × 20000 is 48 KB), written chunk by chunk so the test never holds the pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    row = b"\0" * (1 + (width + 7) // 8)  # filter byte, then 1 bit per pixel
    packer = zlib.compressobj(9)
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    content = (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
    return SimpleUploadedFile(name, content, content_type="image/png")


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
