"""What the catalogue answers for at a gate: access points of facilities, the entitlements
people hold, and when and how many people a facility lets in (opening hours, closures, school
holidays, maximum occupancy, anti-passback) with the live state `decide` keeps for it (who is
inside, how many). The Services issue adds products and tariffs."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.models import Facility, Person, PublicIdField


class AccessPoint(models.Model):
    """A place where a card is presented: an entrance turnstile, an exit, a desk."""

    class Kind(models.TextChoices):
        ENTRANCE = "entrance", _("Entrance")
        EXIT = "exit", _("Exit")
        DESK = "desk", _("Desk")

    public_id = PublicIdField()
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="access_points")
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)

    class Meta:
        ordering = ["facility__name", "name"]
        verbose_name = _("access point")
        verbose_name_plural = _("access points")

    def __str__(self) -> str:
        return f"{self.facility.name} — {self.name}"


class Entitlement(models.Model):
    """A right a person holds at every facility of a kind (the Grand Pass opens all pools of
    the territory): a pass valid over a period, or a book of prepaid entries."""

    class Kind(models.TextChoices):
        PASS = "pass", _("Pass")
        ENTRIES = "entries", _("Prepaid entries")

    public_id = PublicIdField()
    holder = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="entitlements")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    facility_kind = models.CharField(_("facilities"), max_length=20, choices=Facility.Kind.choices)
    label = models.CharField(_("label"), max_length=120)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    entries_total = models.PositiveIntegerField(_("entries"), null=True, blank=True)
    entries_left = models.PositiveIntegerField(_("entries left"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["valid_until", "pk"]
        verbose_name = _("entitlement")
        verbose_name_plural = _("entitlements")
        indexes = [models.Index(fields=["holder", "facility_kind", "valid_until"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("valid_from")),
                name="entitlement_period_is_ordered",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="pass", entries_total__isnull=True, entries_left__isnull=True)
                    | Q(
                        kind="entries",
                        entries_total__isnull=False,
                        entries_left__isnull=False,
                        entries_left__lte=models.F("entries_total"),
                    )
                ),
                name="entries_only_on_entry_books",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.kind}#{self.pk})"


# --- When and how many: the rules of a facility's entrances ----------------------------------
# Facility lives in identity and does not change; these hang on it. Times are local wall-clock
# times in Europe/Paris (settings.TIME_ZONE): a pool opening at 12:00 opens at 12:00 in winter
# and in summer. `decide` reads them through queries.facility_rules (cached in-process).


class FacilityAccessRules(models.Model):
    """How many people a facility lets in and how it stops a card being passed back through the
    turnstile. A facility without this row has no limit and no anti-passback."""

    facility = models.OneToOneField(
        Facility, on_delete=models.CASCADE, primary_key=True, related_name="access_rules"
    )
    max_occupancy = models.PositiveIntegerField(
        _("maximum occupancy"),
        null=True,
        blank=True,
        help_text=_("People inside at once (entries minus exits today). Empty: no limit."),
    )
    anti_passback_minutes = models.PositiveIntegerField(
        _("anti-passback (minutes)"),
        null=True,
        blank=True,
        default=240,
        help_text=_(
            "A person who entered and has not gone out through an exit is refused at the "
            "entrance for this long (and at most until midnight). Empty: no anti-passback."
        ),
    )

    class Meta:
        verbose_name = _("facility access rules")
        verbose_name_plural = _("facility access rules")

    def __str__(self) -> str:
        return str(self.facility)


class OpeningHours(models.Model):
    """One slot of a facility's weekly opening hours: entrances accept people from `opens`
    (included) to `closes` (excluded). A day may have several slots (12:00–13:45 and
    17:00–20:00); a weekday without a slot is closed. A facility with no slot at all, in any
    schedule, is always open (a town-hall desk whose hours are not configured yet).

    The `school_holidays` schedule applies on the days of a SchoolHolidayPeriod when the
    facility has at least one slot in it; otherwise the normal schedule applies every day."""

    class Schedule(models.TextChoices):
        NORMAL = "normal", _("Normal")
        SCHOOL_HOLIDAYS = "school_holidays", _("School holidays")

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="opening_hours")
    schedule = models.CharField(
        _("schedule"), max_length=20, choices=Schedule.choices, default=Schedule.NORMAL
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["facility", "schedule", "weekday", "opens"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")), name="opening_hours_slot_is_ordered"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="opening_hours_weekday_0_to_6"
            ),
        ]

    def __str__(self) -> str:
        slot = f"{self.opens:%H:%M}–{self.closes:%H:%M}"
        return f"{self.facility} — {self.get_weekday_display()} {slot}"


class SchoolHolidayPeriod(models.Model):
    """School holidays of the territory, as the national calendar gives them for its zone: the
    first day of the holidays and the day classes resume (not a holiday day)."""

    name = models.CharField(_("name"), max_length=120)
    starts_on = models.DateField(_("first day of the holidays"))
    classes_resume_on = models.DateField(_("classes resume on"))

    class Meta:
        ordering = ["starts_on"]
        verbose_name = _("school holiday period")
        verbose_name_plural = _("school holiday periods")
        constraints = [
            models.CheckConstraint(
                condition=Q(classes_resume_on__gt=models.F("starts_on")),
                name="school_holidays_period_is_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.starts_on} → {self.classes_resume_on})"


class FacilityClosure(models.Model):
    """An exceptional closure (works, a competition, a strike): entrances refuse `closed` from
    `starts_at` (included) to `ends_at` (excluded), whatever the opening hours say."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="closures")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason shown to staff"), max_length=200)

    class Meta:
        ordering = ["facility", "starts_at"]
        verbose_name = _("exceptional closure")
        verbose_name_plural = _("exceptional closures")
        indexes = [models.Index(fields=["facility", "ends_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="closure_period_is_ordered"
            )
        ]

    def __str__(self) -> str:
        return f"{self.facility} — {self.reason}"


# --- The live state decide keeps (written by actions.decide only) ---------------------------


class FacilityOccupancy(models.Model):
    """How many people are inside a facility today: granted entrances minus exits of people
    counted in, since the start of the local day (`day`; the first entrance of a new day starts
    again from zero). One row per facility with a maximum occupancy, row-locked by the
    entrance that takes a place, so two gates never give away the same last place."""

    facility = models.OneToOneField(
        Facility, on_delete=models.CASCADE, primary_key=True, related_name="occupancy"
    )
    day = models.DateField(_("day"))
    inside = models.PositiveIntegerField(_("people inside"), default=0)

    class Meta:
        verbose_name = _("occupancy")
        verbose_name_plural = _("occupancies")

    def __str__(self) -> str:
        return f"{self.facility}: {self.inside} ({self.day})"


class Presence(models.Model):
    """A person's last granted entrance at a facility not yet followed by an exit (`entered_at`
    is cleared by the exit). Kept only at facilities with a maximum occupancy or an
    anti-passback delay; the history of passages is card's tap log."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="+")
    holder = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    entered_at = models.DateTimeField(_("entered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("presence")
        verbose_name_plural = _("presences")
        constraints = [
            models.UniqueConstraint(fields=["facility", "holder"], name="one_presence_per_person")
        ]

    def __str__(self) -> str:
        return f"{self.holder_id} @ {self.facility_id}: {self.entered_at}"
