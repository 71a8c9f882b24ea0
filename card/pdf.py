"""The printable face of a card, at ID-1 (CR80) size, for the town hall's card printer.

reportlab draws it; the fonts are the Bitstream Vera ones shipped inside reportlab, so the
output is the same on every machine and accented names (Léa, Chloé, Françoise) print right."""

import io

from django.conf import settings
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from identity import images
from identity.pdf import FONT, FONT_BOLD, register_fonts

from .models import Card

# ISO/IEC 7810 ID-1, the size of a bank card.
CARD_WIDTH = 85.60 * mm
CARD_HEIGHT = 53.98 * mm

BRAND = colors.HexColor("#003d7a")  # the portal's --brand
ACCENT = colors.HexColor("#ffd23f")  # the portal's --accent
INK = colors.HexColor("#111111")
MUTED = colors.HexColor("#444444")
PLACEHOLDER = colors.HexColor("#e6e6e6")

MONO = "Courier-Bold"

BAND_HEIGHT = 11 * mm
MARGIN = 4 * mm
# An identity photo is 35 × 45 mm; on the card it keeps that ratio.
PHOTO_WIDTH = 21 * mm
PHOTO_HEIGHT = 27 * mm


def group_number(number: str) -> str:
    """9250123456789012 → "9250 1234 5678 9012", as printed and as staff type it."""
    return " ".join(number[index : index + 4] for index in range(0, len(number), 4))


def _fit(text: str, font: str, size: float, width: float) -> float:
    """The largest font size up to `size` at which `text` fits in `width`."""
    while size > 5 and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.25
    return size


def _stored_photo(card: Card) -> io.BytesIO | None:
    """The holder's photo, when there is one that can be decoded safely: uploads are bounded
    (identity.images), but photos kept before that may declare too many pixels."""
    if not card.photo:
        return None
    with card.photo.open("rb") as handle:
        content = io.BytesIO(handle.read())
    return content if images.is_within_bounds(content) else None


def _draw_photo(pdf: canvas.Canvas, card: Card, x: float, y: float) -> None:
    drawn = False
    try:
        content = _stored_photo(card)
        if content is not None:
            pdf.drawImage(
                ImageReader(content),
                x,
                y,
                width=PHOTO_WIDTH,
                height=PHOTO_HEIGHT,
                preserveAspectRatio=True,
                anchor="c",
                mask="auto",
            )
            drawn = True
    except OSError:
        # A missing or unreadable file must not stop the print run: the clerk sees the
        # placeholder and asks for a new photo.
        drawn = False
    if not drawn:
        pdf.setFillColor(PLACEHOLDER)
        pdf.setStrokeColor(MUTED)
        pdf.setLineWidth(0.5)
        pdf.rect(x, y, PHOTO_WIDTH, PHOTO_HEIGHT, stroke=1, fill=1)
        pdf.setFillColor(MUTED)
        pdf.setFont(FONT, 6)
        pdf.drawCentredString(x + PHOTO_WIDTH / 2, y + PHOTO_HEIGHT / 2 - 2, _("Photo"))
    pdf.setStrokeColor(INK)
    pdf.setLineWidth(0.3)
    pdf.rect(x, y, PHOTO_WIDTH, PHOTO_HEIGHT, stroke=1, fill=0)


def card_face(card: Card) -> bytes:
    """One page the size of the card: branding band, photo, name, number, expiry date.

    Printed in the territory's language (French), whatever language the clerk's screen uses."""
    register_fonts()
    buffer = io.BytesIO()
    territory = settings.SESAME_TERRITORY_NAME
    with translation.override(settings.LANGUAGE_CODE):
        pdf = canvas.Canvas(buffer, pagesize=(CARD_WIDTH, CARD_HEIGHT), pageCompression=1)
        pdf.setTitle(f"Sésame {territory}")
        pdf.setAuthor(f"Sésame {territory}")
        pdf.setCreator("Sésame")

        # Branding band.
        pdf.setFillColor(BRAND)
        pdf.rect(0, CARD_HEIGHT - BAND_HEIGHT, CARD_WIDTH, BAND_HEIGHT, stroke=0, fill=1)
        pdf.setFillColor(ACCENT)
        pdf.rect(0, CARD_HEIGHT - BAND_HEIGHT - 1 * mm, CARD_WIDTH, 1 * mm, stroke=0, fill=1)
        pdf.setFillColor(colors.white)
        pdf.setFont(FONT_BOLD, 13)
        baseline = CARD_HEIGHT - BAND_HEIGHT + 3.6 * mm
        pdf.drawString(MARGIN, baseline, "Sésame")
        territory_size = _fit(territory, FONT, 8, CARD_WIDTH / 2 - MARGIN)
        pdf.setFont(FONT, territory_size)
        pdf.drawRightString(CARD_WIDTH - MARGIN, baseline, territory)

        # Photo, bottom left.
        photo_x, photo_y = MARGIN, 5 * mm
        _draw_photo(pdf, card, photo_x, photo_y)

        # Holder, number, expiry, to the right of the photo.
        text_x = photo_x + PHOTO_WIDTH + 4 * mm
        text_width = CARD_WIDTH - text_x - MARGIN
        holder = card.holder
        pdf.setFillColor(INK)
        first = holder.first_name
        pdf.setFont(FONT, _fit(first, FONT, 10, text_width))
        pdf.drawString(text_x, 27 * mm, first)
        last = holder.last_name.upper()
        pdf.setFont(FONT_BOLD, _fit(last, FONT_BOLD, 11, text_width))
        pdf.drawString(text_x, 22.5 * mm, last)

        pdf.setFillColor(MUTED)
        pdf.setFont(FONT, 5.5)
        pdf.drawString(text_x, 15.5 * mm, _("Card number"))
        pdf.setFillColor(INK)
        number = group_number(card.number)
        pdf.setFont(MONO, _fit(number, MONO, 9, text_width))
        pdf.drawString(text_x, 12 * mm, number)

        if card.expires_on:
            pdf.setFillColor(MUTED)
            pdf.setFont(FONT, 5.5)
            pdf.drawString(text_x, 7.5 * mm, _("Valid until"))
            pdf.setFillColor(INK)
            pdf.setFont(FONT_BOLD, 8)
            pdf.drawString(text_x, 4.5 * mm, date_format(card.expires_on, "SHORT_DATE_FORMAT"))

        pdf.showPage()
        pdf.save()
    return buffer.getvalue()
