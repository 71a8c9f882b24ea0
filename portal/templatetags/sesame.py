"""Words for people, not codes: the filters every page uses (`{% load sesame %}`).

- `typography`: French typography on a rendered page (base.html applies it to the whole body).
- `day`: a date in French words, also from the ISO text a stored JSON answer holds.
- `provider`, `reader_kind`, `admin_field`, `admin_label`: a payment provider, a reader's mode,
  an admin column or form field in words (`provider_options` lists the providers for a filter).
- `tone`: the colour of a status badge (`<span class="badge badge-{{ x.status|tone }}">`).
- `date_picker`: a date field drawn as the browser's date picker.
- `prose`: an administrator's text (the legal pages) as HTML, none of it taken as markup.
- `prefill`: start an unbound form from known values; `startswith`, for the header's links.
"""

import re
from datetime import date, datetime

from django import forms, template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeData, mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language

from card.models import Reader
from payments.labels import PROVIDER_LABELS, provider_label

from ..admin_site import field_name

register = template.Library()

NBSP = "\u00a0"

# --- French typography ------------------------------------------------------------------------

# What lies between tags; the content of these elements is left alone (code, scripts, fields).
_TAG = re.compile(r"(<[^>]*>)")
_VERBATIM = re.compile(r"^<(script|style|pre|code|textarea|kbd|samp)\b", re.IGNORECASE)
# A space before a high punctuation mark or a closing guillemet becomes non-breaking; so does the
# space after an opening guillemet.
_SPACE_BEFORE = re.compile(r"[ \t](?=[:;!?»])")
_SPACE_AFTER = re.compile(r"(?<=«)[ \t]")
# A word glued to ! or ? (an English habit) gets its non-breaking space. Not ":" (hours, 12:00)
# nor ";" (it ends HTML entities, &amp;), and not before a "?" inside a word (a query string).
_GLUED = re.compile(r"(?<=[^\W\d_])(?=[!?](?:\s|$))")

# "à Piscine de Cahors" → "à la Piscine de Cahors": the article a facility's name takes after
# "à" and "de", from its first word (the names staff give facilities start with what they are).
_FEMININE = [
    "Piscine",
    "Médiathèque",
    "Bibliothèque",
    "Ludothèque",
    "Mairie",
    "Cantine",
    "Salle",
    "Maison",
    "Patinoire",
    "Halle",
    "Crèche",
    "Base",
    "Plaine",
    "Déchetterie",
    "Régie",
    "Cité",
    "Ferme",
]
_ELIDED = [
    "École",
    "Espace",
    "Hôtel",
    "Aire",
    "Auditorium",
    "Office",
    "Atelier",
    "Accueil",
    "Annexe",
]
_MASCULINE = [
    "Gymnase",
    "Stade",
    "Centre",
    "Conservatoire",
    "Musée",
    "Théâtre",
    "Cinéma",
    "Complexe",
    "Parc",
    "Camping",
    "Boulodrome",
    "Dojo",
    "Pôle",
    "Point",
    "Relais",
    "Service",
    "Guichet",
    "Bureau",
]
_ARTICLES = {
    **{(prep, noun): f"{prep} la {noun}" for prep in ("à", "de") for noun in _FEMININE},
    **{(prep, noun): f"{prep} l’{noun}" for prep in ("à", "de") for noun in _ELIDED},
    **{("à", noun): f"au {noun}" for noun in _MASCULINE},
    **{("de", noun): f"du {noun}" for noun in _MASCULINE},
}
_PLACE = re.compile(
    r"(?<![\w’'])(à|de)[ \u00a0]("
    + "|".join(sorted({noun for _prep, noun in _ARTICLES}, key=len, reverse=True))
    + r")(?=[ \u00a0,.;:!?)]|$)"
)


def french_typography(text: str) -> str:
    """The French rules a translation alone cannot keep, on one piece of text (no markup)."""
    text = _SPACE_BEFORE.sub(NBSP, text)
    text = _SPACE_AFTER.sub(NBSP, text)
    text = _GLUED.sub(NBSP, text)
    return _PLACE.sub(lambda m: _ARTICLES[(m.group(1), m.group(2))], text)


@register.filter(is_safe=True)
def typography(html):
    """French typography on rendered HTML, in French pages only: a non-breaking space before
    : ; ! ? and inside « », and "à la Piscine de Cahors" rather than "à Piscine de Cahors" where
    a facility's name follows "à" or "de". Only text between tags changes: attributes, scripts,
    code and form fields keep every character."""
    if not (get_language() or "").startswith("fr"):
        return html
    parts = _TAG.split(str(html))
    verbatim = None
    for index, part in enumerate(parts):
        if index % 2:  # a tag
            if verbatim is None:
                opening = _VERBATIM.match(part)
                if opening:
                    verbatim = opening.group(1).lower()
            elif part.lower().startswith(f"</{verbatim}"):
                verbatim = None
        elif verbatim is None and part:
            parts[index] = french_typography(part)
    result = "".join(parts)
    return mark_safe(result) if isinstance(html, SafeData) else result  # noqa: S308 - text only changed


# --- Dates ------------------------------------------------------------------------------------


@register.filter
def day(value, style: str = "long") -> str:
    """A day in the words of the page's language: "31 décembre 2026", "1er janvier 2027"
    (`long`, the default) or "31/12/2026" (`short`). Takes a date, a datetime (its local day)
    or ISO text ("2026-12-31", as stored in a JSON answer); anything else is shown as it is."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if not isinstance(value, date):
        return "" if value is None else value
    if style == "short":
        return date_format(value, "SHORT_DATE_FORMAT")
    text = date_format(value, "DATE_FORMAT")
    if value.day == 1 and (get_language() or "").startswith("fr"):
        text = text.replace("1", "1er", 1)  # "1er janvier 2027"
    return text


# --- Codes in words ---------------------------------------------------------------------------


@register.filter
def provider(value) -> str:
    """A payment provider's code in words ("desk" → "Guichet de la régie")."""
    return provider_label(value)


@register.simple_tag
def provider_options() -> list[tuple[str, str]]:
    """The providers a finance officer can filter payments on, in words."""
    return [(code, str(label)) for code, label in PROVIDER_LABELS.items()]


# Status codes of cards, orders, payments, refunds, bookings… and the badge colour they take.
TONES = {
    "ok": {
        "active",
        "paid",
        "succeeded",
        "confirmed",
        "granted",
        "delivered",
        "connected",
        "accepted",
        "done",
        "sent",
    },
    "warn": {
        "requested",
        "validated",
        "produced",
        "pending",
        "created",
        "partially_refunded",
        "submitted",
        "in_review",
        "waiting",
        "queued",
        "retrying",
    },
    "danger": {"suspended", "failed", "refused", "revoked", "rejected", "disconnected"},
}


@register.filter
def tone(status) -> str:
    """The badge colour of a status: ok, warn, danger, or neutral for what is over."""
    for name, statuses in TONES.items():
        if status in statuses:
            return name
    return "neutral"


# --- Forms -----------------------------------------------------------------------------------


@register.filter
def date_picker(field):
    """A date field drawn as the browser's date picker (its value in ISO, as the picker wants),
    whatever widget its form gave it."""
    widget = forms.DateInput(format="%Y-%m-%d")
    widget.input_type = "date"
    return field.as_widget(widget=widget)


# --- Small helpers ----------------------------------------------------------------------------


@register.filter
def startswith(value, prefix) -> bool:
    """For the header's aria-current: is this page under that address?"""
    return bool(prefix) and str(value).startswith(str(prefix))


@register.simple_tag
def prefill(form, **values) -> str:
    """Start an unbound form from known values (the names given at sign-up on the profile
    form); a value already set, or any bound form, is left as it is."""
    if not form.is_bound:
        for name, value in values.items():
            if value and not form.initial.get(name):
                form.initial[name] = value
    return ""


# --- Texts written by administrators ------------------------------------------------------------


def _prose_block(lines: list[str]) -> list[str]:
    """One block of an administrator's text: headings, paragraphs and lists, in order."""
    html: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []

    def close() -> None:
        if paragraph:
            html.append(format_html("<p>{}</p>", " ".join(paragraph)))
        if items:
            entries = format_html_join("", "<li>{}</li>", ((item,) for item in items))
            html.append(format_html("<ul>{}</ul>", entries))
        paragraph.clear()
        items.clear()

    for line in lines:
        if line.startswith("## "):
            close()
            html.append(format_html("<h2>{}</h2>", line[3:].strip()))
        elif line.startswith("- "):
            if paragraph:
                close()
            items.append(line[2:].strip())
        else:
            if items:
                close()
            paragraph.append(line)
    close()
    return html


@register.filter
def prose(text: str) -> str:
    """An administrator's text as HTML, with nothing of theirs taken as markup: paragraphs
    separated by an empty line, "## " starts a heading, "- " an item of a list."""
    blocks = re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n").strip())
    html = []
    for block in blocks:
        html += _prose_block([line.strip() for line in block.split("\n") if line.strip()])
    return mark_safe("\n".join(html))  # noqa: S308 - every piece went through format_html


@register.filter
def reader_kind(value) -> str:
    """The mode a reader's agent reports ("gate", "desk", "kiosk") in words."""
    try:
        return str(Reader.Kind(value).label)
    except ValueError:
        return str(value)


@register.filter
def admin_field(text) -> str:
    """An admin column's or filter's title in the page's language (portal/admin_site.py)."""
    return field_name(text)


@register.simple_tag
def admin_label(field) -> str:
    """Django's label of a field of an admin form (editable or read-only), its words in the
    page's language where the field has no verbose name (portal/admin_site.py). Django's own
    label is kept, its classes and `for` included; only its text changes."""
    label = str(field.field["label"] if field.is_readonly else field.field.label)
    html = str(field.label_tag())
    words = capfirst(field_name(label))
    if words == capfirst(label):
        return mark_safe(html)  # noqa: S308 - Django's own label
    old, new = conditional_escape(capfirst(label)), conditional_escape(words)
    return mark_safe(html.replace(f">{old}", f">{new}", 1))  # noqa: S308 - escaped above
