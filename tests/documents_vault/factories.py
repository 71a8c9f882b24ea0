"""Files the safe is given in tests, made here (real PDFs, JPEGs, PNGs and HEIC photos), and
documents stored through the real action."""

import io
import struct
import zlib
from datetime import date

import pillow_heif
from PIL import Image
from pypdf import PdfWriter

from documents_vault.actions import uploads
from documents_vault.models import Document
from identity.models import Person


def pdf_bytes(*, pages: int = 1, javascript: str | None = None, attachment: bool = False) -> bytes:
    writer = PdfWriter()
    for _page in range(pages):
        writer.add_blank_page(width=595, height=842)
    if javascript:
        writer.add_js(javascript)
    if attachment:
        writer.add_attachment("notes.txt", b"hidden")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def hand_made_pdf(open_action: bytes) -> bytes:
    """A minimal PDF written byte by byte (its xref offsets computed), with `open_action` as
    the catalog's /OpenAction: for names pypdf must decode (/J#61vaScript)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction " + open_action + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def jpeg_bytes(*, size=(640, 480), color=(200, 30, 30), gps: bool = False) -> bytes:
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 12"  # Model
    if gps:
        gps_ifd = exif.get_ifd(0x8825)
        gps_ifd[1] = "N"
        gps_ifd[2] = (44.0, 26.0, 50.0)  # Cahors
        gps_ifd[3] = "E"
        gps_ifd[4] = (1.0, 26.0, 28.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_bytes(*, size=(300, 200), color=(20, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def heic_bytes(*, size=(320, 240)) -> bytes:
    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", size, (10, 160, 60)).save(out, format="HEIF")
    return out.getvalue()


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG header claiming huge dimensions, a few bytes long: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


EXECUTABLE = (
    b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200 + b"This program cannot be run in DOS mode"
)
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def stored_document(
    person: Person,
    *,
    kind: str = "other",
    content: bytes | None = None,
    name: str = "document.pdf",
    expires_on: date | None = None,
    actor=None,
) -> Document:
    """A document added through the real action (inspected, encrypted, stored)."""
    return uploads.add_document(
        actor=actor or person.user,
        person=person,
        kind=kind,
        file_name=name,
        content=content if content is not None else pdf_bytes(),
        expires_on=expires_on,
    )
