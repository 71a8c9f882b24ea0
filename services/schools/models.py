"""The schools, their catchment map dated by school year, their places per level, and the
children accepted by pre-enrolment. Rows are written by the actions only (the admin goes
through identity.admin.ActionModelAdmin)."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.models import Commune, Person, PublicIdField, Street, User

from .levels import LEVEL_CHOICES, school_year_label


class School(models.Model):
    public_id = PublicIdField()
    name = models.CharField(_("name"), max_length=200, unique=True)
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="+")
    address = models.CharField(_("address"), max_length=200)
    # The national school identifier (UAI), on the certificate.
    uai = models.CharField(_("UAI code"), max_length=8, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("school")
        verbose_name_plural = _("schools")

    def __str__(self) -> str:
        return self.name


class CatchmentSegment(models.Model):
    """A piece of a school's catchment area for one school year: the numbers `number_from` to
    `number_to` of a street, on one side or both. A new year's map is new rows."""

    class Side(models.TextChoices):
        BOTH = "both", _("Both sides")
        ODD = "odd", _("Odd numbers")
        EVEN = "even", _("Even numbers")

    school_year = models.PositiveIntegerField(_("school year (starting year)"))
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="segments")
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="+")
    number_from = models.PositiveIntegerField(_("from number"), default=1)
    number_to = models.PositiveIntegerField(_("to number"), default=9999)
    side = models.CharField(_("side"), max_length=4, choices=Side.choices, default=Side.BOTH)
    imported_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["school_year", "street", "number_from"]
        verbose_name = _("catchment segment")
        verbose_name_plural = _("catchment map")
        indexes = [models.Index(fields=["school_year", "street"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(number_from__lte=models.F("number_to")),
                name="catchment_range_in_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.street} {self.number_from}-{self.number_to}"

    def covers(self, number: int) -> bool:
        if not self.number_from <= number <= self.number_to:
            return False
        if self.side == self.Side.ODD:
            return number % 2 == 1
        if self.side == self.Side.EVEN:
            return number % 2 == 0
        return True

    def overlaps(self, other: "CatchmentSegment") -> bool:
        if self.street_id != other.street_id or self.school_year != other.school_year:
            return False
        start, end = max(self.number_from, other.number_from), min(self.number_to, other.number_to)
        if start > end:
            return False
        return self.Side.BOTH in (self.side, other.side) or self.side == other.side

    @property
    def school_year_label(self) -> str:
        return school_year_label(self.school_year)


class SchoolPlaces(models.Model):
    """The places a school opens in a level for a school year."""

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="places")
    school_year = models.PositiveIntegerField(_("school year (starting year)"))
    level = models.CharField(_("level"), max_length=4, choices=LEVEL_CHOICES)
    places = models.PositiveIntegerField(_("places"))

    class Meta:
        ordering = ["school_year", "school", "level"]
        verbose_name = _("places")
        verbose_name_plural = _("places per school and level")
        constraints = [
            models.UniqueConstraint(
                fields=["school", "school_year", "level"], name="one_places_row_per_level"
            )
        ]

    def __str__(self) -> str:
        return f"{self.school} {self.level} {school_year_label(self.school_year)}"


class Enrolment(models.Model):
    """A child accepted in a school and level for a school year (the mayor's certificate of
    enrolment); the school's head admits them. One per child and school year."""

    public_id = PublicIdField()
    child = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="enrolments")
    school_year = models.PositiveIntegerField()
    level = models.CharField(max_length=4, choices=LEVEL_CHOICES)
    derogation = models.BooleanField(default=False)
    procedure = models.CharField(max_length=40, help_text="public id of the procedure file")
    accepted_at = models.DateTimeField(default=timezone.now, editable=False)
    accepted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["school_year", "school", "level", "child__last_name"]
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [
            models.UniqueConstraint(
                fields=["child", "school_year"], name="one_school_enrolment_per_child_and_year"
            )
        ]

    def __str__(self) -> str:
        return f"enrolment#{self.pk}"
