"""School years and the levels of the école maternelle and élémentaire, with the age a child
reaches in the calendar year of the rentrée (Code de l'éducation L113-1, L131-1: instruction
is compulsory from the year of the third birthday)."""

from datetime import date

from django.utils.translation import gettext_lazy as _

# The age reached during the calendar year the school year starts in.
LEVELS = (
    ("ps", _("Petite section"), 3),
    ("ms", _("Moyenne section"), 4),
    ("gs", _("Grande section"), 5),
    ("cp", _("CP"), 6),
    ("ce1", _("CE1"), 7),
    ("ce2", _("CE2"), 8),
    ("cm1", _("CM1"), 9),
    ("cm2", _("CM2"), 10),
)
LEVEL_CHOICES = tuple((key, label) for key, label, _age in LEVELS)
LEVEL_AGES = {key: age for key, _label, age in LEVELS}
# A child may be one year older than the level's age (a repeated year), never younger.
YEARS_LATE_ALLOWED = 1


def next_school_year(today: date) -> int:
    """The school year pre-enrolment is for, by the year it starts in: the coming September."""
    return today.year if today.month < 9 else today.year + 1


def school_year_label(start: int) -> str:
    return f"{start}-{start + 1}"


def age_problem(*, level: str, birth_date: date, start: int) -> str | None:
    """Why a child born on `birth_date` cannot enter `level` in the school year starting in
    `start` ("too_young", "too_old"), or None."""
    age = start - birth_date.year
    expected = LEVEL_AGES[level]
    if age < expected:
        return "too_young"
    if age > expected + YEARS_LATE_ALLOWED:
        return "too_old"
    return None
