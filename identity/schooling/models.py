"""Tables of the school structure (registered in the identity app, see identity/models.py)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.models import Facility, Person, PublicIdField, User


class Level(models.TextChoices):
    """The levels of French primary school, nursery (PS, MS, GS) then elementary (CP…CM2)."""

    PS = "PS", _("Nursery, first year (PS)")
    MS = "MS", _("Nursery, second year (MS)")
    GS = "GS", _("Nursery, last year (GS)")
    CP = "CP", _("Year 1 (CP)")
    CE1 = "CE1", _("Year 2 (CE1)")
    CE2 = "CE2", _("Year 3 (CE2)")
    CM1 = "CM1", _("Year 4 (CM1)")
    CM2 = "CM2", _("Year 5 (CM2)")


class SchoolYear(models.Model):
    """A school year of the territory: the day classes start and the last day of classes."""

    name = models.CharField(_("name"), max_length=20, unique=True)  # "2026-2027"
    starts_on = models.DateField(_("first day of classes"))
    ends_on = models.DateField(_("last day of classes"))
    zone = models.CharField(
        _("holiday zone"), max_length=1, choices=[("A", "A"), ("B", "B"), ("C", "C")]
    )

    class Meta:
        app_label = "identity"
        ordering = ["starts_on"]
        verbose_name = _("school year")
        verbose_name_plural = _("school years")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gt=models.F("starts_on")), name="school_year_is_ordered"
            )
        ]

    def __str__(self) -> str:
        return self.name


class SchoolHoliday(models.Model):
    """School holidays of the territory's zone, as the Éducation nationale's calendar gives
    them: the first day without classes and the day classes resume (a school day)."""

    school_year = models.ForeignKey(
        SchoolYear, on_delete=models.CASCADE, related_name="holidays", verbose_name=_("school year")
    )
    name = models.CharField(_("name"), max_length=120)
    starts_on = models.DateField(_("first day of the holidays"))
    classes_resume_on = models.DateField(_("classes resume on"))

    class Meta:
        app_label = "identity"
        ordering = ["starts_on"]
        verbose_name = _("school holidays")
        verbose_name_plural = _("school holidays")
        constraints = [
            models.CheckConstraint(
                condition=Q(classes_resume_on__gt=models.F("starts_on")),
                name="school_holiday_is_ordered",
            ),
            models.UniqueConstraint(
                fields=["school_year", "starts_on"], name="one_holiday_start_per_year"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SchoolClosure(models.Model):
    """A day a school (or every school: no school) is closed, added late: a strike, works."""

    school = models.ForeignKey(
        Facility,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="school_closures",
        limit_choices_to={"kind": Facility.Kind.SCHOOL},
        help_text=_("Empty: every school of the territory."),
    )
    day = models.DateField(_("day"))
    reason = models.CharField(_("reason"), max_length=200)

    class Meta:
        app_label = "identity"
        ordering = ["day"]
        verbose_name = _("school closure")
        verbose_name_plural = _("school closures")

    def __str__(self) -> str:
        return f"{self.day}: {self.reason}"


class SchoolClass(models.Model):
    """A class of a school for a school year, with the levels it takes (a CE1-CE2 class)."""

    public_id = PublicIdField()
    school = models.ForeignKey(
        Facility,
        on_delete=models.PROTECT,
        related_name="school_classes",
        limit_choices_to={"kind": Facility.Kind.SCHOOL},
        verbose_name=_("school"),
    )
    school_year = models.ForeignKey(
        SchoolYear, on_delete=models.PROTECT, related_name="classes", verbose_name=_("school year")
    )
    name = models.CharField(_("name"), max_length=60)
    levels = models.CharField(_("levels"), max_length=40, help_text=_("For example: CE1,CE2"))

    class Meta:
        app_label = "identity"
        ordering = ["school", "name"]
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        constraints = [
            models.UniqueConstraint(
                fields=["school", "school_year", "name"], name="one_class_name_per_school_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.school})"

    @property
    def level_codes(self) -> list[str]:
        return [code.strip() for code in self.levels.split(",") if code.strip()]


class Enrolment(models.Model):
    """A child at a school for a school year, at a level, in a class once the head has made
    them. Written by identity.schooling.actions.enrol_child (the town, until pre-enrolment)."""

    public_id = PublicIdField()
    child = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="enrolments", verbose_name=_("child")
    )
    school = models.ForeignKey(
        Facility,
        on_delete=models.PROTECT,
        related_name="enrolments",
        limit_choices_to={"kind": Facility.Kind.SCHOOL},
        verbose_name=_("school"),
    )
    school_year = models.ForeignKey(
        SchoolYear, on_delete=models.PROTECT, related_name="+", verbose_name=_("school year")
    )
    level = models.CharField(_("level"), max_length=3, choices=Level.choices)
    school_class = models.ForeignKey(
        SchoolClass,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enrolments",
        verbose_name=_("class"),
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        app_label = "identity"
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [
            models.UniqueConstraint(
                fields=["child", "school_year"], name="one_enrolment_per_child_and_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.child} — {self.school} {self.school_year}"
