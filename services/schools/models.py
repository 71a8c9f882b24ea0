"""The schools' catchment map dated by school year and their places per level. The schools are
the town's Facilities of kind school, and an accepted pre-enrolment is the one
identity.schooling Enrolment (the canteen's and after-school care's list). Rows are written by
the actions only (the admin goes through identity.admin.ActionModelAdmin)."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.models import Facility, Street

from .levels import LEVEL_CHOICES, school_year_label


class SchoolFacilityManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(kind=Facility.Kind.SCHOOL)


class SchoolFacility(Facility):
    """The town's schools in the schools' admin: the Facilities of kind school (no table of
    their own), with their address and UAI for the certificate, and the head's list."""

    objects = SchoolFacilityManager()

    class Meta:
        proxy = True
        verbose_name = _("school")
        verbose_name_plural = _("schools")

    def save(self, *args, **kwargs):
        self.kind = Facility.Kind.SCHOOL
        super().save(*args, **kwargs)


def school_field(related_name: str) -> models.ForeignKey:
    """The town's school: a Facility of kind school (identity), the one the canteen, the
    classes and the enrolments also point at."""
    return models.ForeignKey(
        Facility,
        on_delete=models.PROTECT,
        related_name=related_name,
        limit_choices_to={"kind": Facility.Kind.SCHOOL},
        verbose_name=_("school"),
    )


class CatchmentSegment(models.Model):
    """A piece of a school's catchment area for one school year: the numbers `number_from` to
    `number_to` of a street, on one side or both. A new year's map is new rows."""

    class Side(models.TextChoices):
        BOTH = "both", _("Both sides")
        ODD = "odd", _("Odd numbers")
        EVEN = "even", _("Even numbers")

    school_year = models.PositiveIntegerField(_("school year (starting year)"))
    school = school_field("catchment_segments")
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

    school = school_field("school_places")
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
