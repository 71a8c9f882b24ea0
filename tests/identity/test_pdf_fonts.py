"""Every PDF registers its fonts through identity.pdf: each face on its own, so that a PDF
printed first with the regular face only does not leave the bold one missing for the next
(procedure outcomes failed after a kitchen list in the same process)."""

from reportlab.pdfbase import pdfmetrics

from identity.pdf import FONT, FONT_BOLD, register_fonts


def test_the_bold_face_is_registered_even_when_the_regular_one_already_is(monkeypatch):
    register_fonts()
    monkeypatch.delitem(pdfmetrics._fonts, FONT_BOLD)  # as if only the regular face were there
    assert FONT_BOLD not in pdfmetrics.getRegisteredFontNames()
    register_fonts()
    assert {FONT, FONT_BOLD} <= set(pdfmetrics.getRegisteredFontNames())
