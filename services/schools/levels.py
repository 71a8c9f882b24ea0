"""School years and the levels of the école maternelle and élémentaire, with the age a child
reaches in the calendar year of the rentrée (Code de l'éducation L113-1, L131-1: instruction
is compulsory from the year of the third birthday)."""

from datetime import date

from identity.schooling.models import Level, SchoolYear

# The age reached during the calendar year the school year starts in, for each level of the
# one list of levels (identity.schooling.Level, the canteen's too).
LEVEL_AGES = {
    Level.PS: 3,
    Level.MS: 4,
    Level.GS: 5,
    Level.CP: 6,
    Level.CE1: 7,
    Level.CE2: 8,
    Level.CM1: 9,
    Level.CM2: 10,
}
LEVEL_CHOICES = tuple(Level.choices)
# A child may be one year older than the level's age (a repeated year), never younger.
YEARS_LATE_ALLOWED = 1


def next_school_year(today: date) -> int:
    """The school year pre-enrolment is for, by the year it starts in: the coming September."""
    return today.year if today.month < 9 else today.year + 1


def school_year_label(start: int) -> str:
    return f"{start}-{start + 1}"


def school_year_of(start: int) -> SchoolYear | None:
    """The town's school year (identity.schooling) that starts in the year `start`."""
    return SchoolYear.objects.filter(starts_on__year=start).order_by("starts_on").first()


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
