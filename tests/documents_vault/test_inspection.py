"""What the safe accepts is decided from the bytes: real PDFs, JPEGs, PNGs and HEIC photos,
opened for real; everything else is refused with a message saying why."""

import io

import pytest
from PIL import Image
from pypdf import PdfReader

from documents_vault import inspection
from documents_vault.inspection import FileRefused
from tests.documents_vault.factories import (
    EXECUTABLE,
    hand_made_pdf,
    heic_bytes,
    jpeg_bytes,
    pdf_bytes,
    png_bomb,
    png_bytes,
)


def test_a_pdf_is_kept_as_it_is():
    original = pdf_bytes(pages=2)
    clean = inspection.inspect(original, name="Avis d'imposition 2026.pdf")
    assert clean.content == original
    assert clean.content_type == "application/pdf"
    assert clean.name == "Avis d'imposition 2026.pdf"
    assert len(PdfReader(io.BytesIO(clean.content)).pages) == 2


def test_a_photo_loses_its_metadata_and_its_location():
    original = jpeg_bytes(gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # it had a location
    clean = inspection.inspect(original, name="IMG_2041.JPG")
    stored = Image.open(io.BytesIO(clean.content))
    assert stored.format == "JPEG"
    assert dict(stored.getexif()) == {}
    assert b"PhoneMaker" not in clean.content
    assert clean.name == "IMG_2041.jpg"


def test_a_png_is_reencoded_as_png():
    clean = inspection.inspect(png_bytes(), name="scan.png")
    assert clean.content_type == "image/png"
    assert Image.open(io.BytesIO(clean.content)).size == (300, 200)


def test_a_heic_photo_from_a_phone_becomes_a_jpeg():
    clean = inspection.inspect(heic_bytes(), name="IMG_0001.HEIC")
    assert clean.content_type == "image/jpeg"
    assert clean.name == "IMG_0001.jpg"
    assert Image.open(io.BytesIO(clean.content)).format == "JPEG"


def test_a_huge_photo_is_reduced_to_4000_pixels_a_side():
    clean = inspection.inspect(jpeg_bytes(size=(6000, 4000)), name="photo.jpg")
    assert Image.open(io.BytesIO(clean.content)).size == (4000, 2667)


def test_a_name_without_an_extension_gets_the_stored_type_s():
    assert inspection.inspect(pdf_bytes(), name="livret").name == "livret.pdf"


def test_the_declared_type_and_the_name_do_not_decide():
    """A PNG sent as "scan.png" with any Content-Type is a PNG because of its bytes."""
    assert inspection.sniff(png_bytes()) == "image/png"
    assert inspection.sniff(b"GIF89a....") is None


REFUSED = {
    "an empty file": (b"", "vide.pdf", "empty_file"),
    "an executable renamed .pdf": (EXECUTABLE, "facture.pdf", "unsupported_type"),
    "an ELF binary": (b"\x7fELF" + b"\x00" * 100, "scan.pdf", "unsupported_type"),
    "a PDF renamed .jpg": (pdf_bytes(), "photo.jpg", "type_mismatch"),
    "a PDF named .exe": (pdf_bytes(), "facture.pdf.exe", "type_mismatch"),
    "a JPEG renamed .pdf": (jpeg_bytes(), "avis.pdf", "type_mismatch"),
    "a PNG bomb (100 000 × 100 000 pixels)": (png_bomb(), "bombe.png", "image_too_large"),
    "a PNG of 30 000 × 2 pixels": (png_bomb(30_000, 2), "bande.png", "image_too_large"),
    "a PDF with JavaScript": (pdf_bytes(javascript="app.alert(1)"), "a.pdf", "pdf_javascript"),
    "a PDF with an embedded file": (pdf_bytes(attachment=True), "a.pdf", "pdf_embedded_file"),
    "a PDF hiding /JavaScript as /J#61vaScript": (
        hand_made_pdf(b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>"),
        "a.pdf",
        "pdf_javascript",
    ),
    "a PDF with a launch action": (
        hand_made_pdf(b"<< /S /Launch /F (calc.exe) >>"),
        "a.pdf",
        "pdf_javascript",
    ),
    "a truncated PDF": (pdf_bytes()[:60], "a.pdf", "damaged_file"),
    "a truncated JPEG": (jpeg_bytes()[:200], "a.jpg", "damaged_file"),
    "a name with a slash": (pdf_bytes(), "../../etc/passwd.pdf", "unsafe_name"),
    "a name with a backslash": (pdf_bytes(), "..\\windows\\a.pdf", "unsafe_name"),
    "a name with a NUL character": (pdf_bytes(), "a.pdf\x00.exe", "unsafe_name"),
}


@pytest.mark.parametrize(("content", "name", "code"), REFUSED.values(), ids=REFUSED.keys())
def test_refused_with_a_clear_message(content, name, code):
    with pytest.raises(FileRefused) as refused:
        inspection.inspect(content, name=name)
    assert refused.value.code == code
    assert refused.value.field == "file"
    assert refused.value.message.endswith(".")


def test_a_file_over_the_limit_is_refused_before_anything_else(settings):
    settings.SESAME_VAULT_MAX_UPLOAD_BYTES = 1000
    with pytest.raises(FileRefused) as refused:
        inspection.inspect(pdf_bytes(pages=30), name="gros.pdf")
    assert refused.value.code == "too_large"
    assert refused.value.status == 413


def test_a_harmless_open_action_is_accepted():
    clean = inspection.inspect(hand_made_pdf(b"<< /S /GoTo /D [3 0 R /Fit] >>"), name="ok.pdf")
    assert clean.content_type == "application/pdf"
