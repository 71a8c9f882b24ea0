"""The printable card face: ID-1 size, the holder's name and photo, the number as printed."""

import io
from datetime import date

import pytest
from pypdf import PdfReader

from card import pdf
from tests.card.factories import blank_png_upload, photo_upload
from tests.factories import CardFactory, ResidentFactory

pytestmark = pytest.mark.django_db

MM = 72 / 25.4


def _page(content: bytes):
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 1
    return reader, reader.pages[0]


def test_the_card_face_is_a_one_page_pdf_of_the_size_of_a_bank_card():
    card = CardFactory(status="produced")
    content = pdf.card_face(card)
    assert content.startswith(b"%PDF")
    _reader, page = _page(content)
    assert float(page.mediabox.width) == pytest.approx(85.60 * MM, abs=0.01)
    assert float(page.mediabox.height) == pytest.approx(53.98 * MM, abs=0.01)


def test_the_card_face_carries_the_name_the_number_in_groups_the_expiry_and_the_territory(
    settings,
):
    settings.SESAME_TERRITORY_NAME = "Grand Cahors"
    holder = ResidentFactory(first_name="Léa", last_name="Martin-Dubœuf")
    card = CardFactory(
        holder=holder, number="9250123456789012", status="produced", expires_on=date(2032, 3, 2)
    )
    _reader, page = _page(pdf.card_face(card))
    text = page.extract_text()
    assert "Léa" in text
    assert "MARTIN-DUBŒUF" in text
    assert "9250 1234 5678 9012" in text
    assert "02/03/2032" in text  # printed in French, whatever the clerk's screen language
    assert "Sésame" in text
    assert "Grand Cahors" in text


def test_the_holder_photo_is_printed_and_a_placeholder_stands_in_when_there_is_none():
    with_photo = CardFactory(status="produced")
    with_photo.photo.save("face.png", photo_upload("face.png", fmt="PNG"), save=True)
    without_photo = CardFactory(status="produced")

    _reader, page = _page(pdf.card_face(with_photo))
    assert len(page.images) == 1
    assert "Photo" not in page.extract_text()

    _reader, page = _page(pdf.card_face(without_photo))
    assert len(page.images) == 0
    assert "Photo" in page.extract_text()


def test_a_photo_file_gone_missing_prints_the_placeholder_instead_of_failing():
    card = CardFactory(status="produced")
    card.photo.name = "card-photos/gone.jpg"
    _reader, page = _page(pdf.card_face(card))
    assert len(page.images) == 0
    assert "Photo" in page.extract_text()


def test_a_photo_stored_before_pixels_were_bounded_prints_the_placeholder_undecoded():
    """Photos were once accepted by their weight alone: a 17 KB PNG of 12000 × 12000 pixels
    took 14 s and 1.6 GB to print. Its header is read, never its pixels."""
    card = CardFactory(status="produced")
    card.photo.save("face.png", blank_png_upload(12000, 12000), save=True)
    _reader, page = _page(pdf.card_face(card))
    assert len(page.images) == 0
    assert "Photo" in page.extract_text()


def test_group_number_splits_sixteen_digits_in_four_groups():
    assert pdf.group_number("9250123456789012") == "9250 1234 5678 9012"
