"""The fonts of every PDF Sésame prints (receipts, cards, procedure outcomes, kitchen lists):
Bitstream Vera, shipped with reportlab, which has the French accents and the euro sign. One
registration for all of them, each face checked on its own (a PDF that registered only the
regular face must not leave the bold one missing for the next)."""

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT = "SesameVera"
FONT_BOLD = "SesameVera-Bold"
_FACES = {FONT: "Vera.ttf", FONT_BOLD: "VeraBd.ttf"}


def register_fonts() -> None:
    registered = set(pdfmetrics.getRegisteredFontNames())
    for name, file in _FACES.items():
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, file))
