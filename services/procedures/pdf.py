"""The documents a procedure produces (reportlab): the outcome a resident downloads once their
request is accepted, and the receipt a clerk prints at the counter. Written in the portal's
language (French), whatever the reader's, with the Vera fonts shipped with reportlab (accents
print right)."""

import io
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from identity.pdf import FONT, FONT_BOLD, register_fonts

from .models import ProcedureFile
from .web import summary

BRAND = colors.HexColor("#003d7a")


def _styles() -> dict[str, ParagraphStyle]:
    return {
        "title": ParagraphStyle(
            "title", fontName=FONT_BOLD, fontSize=16, leading=20, textColor=BRAND, spaceAfter=4 * mm
        ),
        "heading": ParagraphStyle(
            "heading",
            fontName=FONT_BOLD,
            fontSize=11,
            leading=14,
            spaceBefore=3 * mm,
            spaceAfter=1 * mm,
        ),
        "text": ParagraphStyle("text", fontName=FONT, fontSize=10, leading=13),
    }


def _render(title: str, blocks: list[tuple[str, str]]) -> bytes:
    register_fonts()
    styles = _styles()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author="Sésame",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    story = [Paragraph(escape(title), styles["title"])]
    for style, text in blocks:
        if style == "gap":
            story.append(Spacer(1, 4 * mm))
        else:
            story.append(Paragraph(escape(text), styles[style]))
    document.build(story)
    return buffer.getvalue()


def _when(value) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if value else ""


def _header(file: ProcedureFile) -> list[tuple[str, str]]:
    return [
        ("text", _("Procedure: %(name)s") % {"name": file.name}),
        ("text", _("Reference: %(ref)s") % {"ref": file.public_id}),
        ("text", _("Applicant: %(name)s") % {"name": file.applicant.full_name}),
        ("text", _("Submitted on %(when)s") % {"when": _when(file.submitted_at)}),
    ]


def outcome(file: ProcedureFile) -> bytes:
    """The accepted request's outcome, as its type words it (`outcome_lines`)."""
    with translation.override(settings.LANGUAGE_CODE):
        blocks = _header(file) + [("gap", "")]
        blocks += [("text", line) for line in file.type.outcome_lines(file)]
        blocks += [
            ("gap", ""),
            ("text", _("Issued on %(when)s.") % {"when": _when(timezone.now())}),
        ]
        return _render(_("Outcome of your request"), blocks)


def receipt(file: ProcedureFile) -> bytes:
    """The counter's receipt: what was submitted, when, by whom, with the resident's consent."""
    with translation.override(settings.LANGUAGE_CODE):
        blocks = _header(file)
        if file.consent_at:
            blocks.append(
                (
                    "text",
                    _("Consent given by %(who)s on %(when)s for: %(purpose)s")
                    % {
                        "who": file.consent_given_by,
                        "when": _when(file.consent_at),
                        "purpose": file.consent_purpose,
                    },
                )
            )
        if file.due_on:
            blocks.append(
                ("text", _("Answer due by %(day)s.") % {"day": file.due_on.strftime("%d/%m/%Y")})
            )
        for _key, title, lines in summary(file):
            if lines:
                blocks.append(("heading", title))
                blocks += [("text", f"{label} : {value}") for label, value in lines]
        blocks += [
            ("gap", ""),
            ("text", _("Follow this request in My space, under My procedures.")),
        ]
        return _render(_("Receipt of your request"), blocks)
