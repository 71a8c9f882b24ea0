"""What the catalogue answers for at a gate: access points of facilities, the entitlements
people hold, and when and how many people a facility lets in (opening hours, closures, school
holidays, maximum occupancy, anti-passback) with the live state `decide` keeps for it (who is
inside, how many). The Services issue adds products and tariffs."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from identity.models import Facility, Person, PublicIdField, short_date
from payments.money import format_cents


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
    the territory): a pass valid over a period, a book of prepaid entries, or a booking (a
    swimming lesson: the days of its sessions, at one facility when `facility` is set).

    `sale_ref` names the sale that created it (an order line of payments, "payments.line:42"):
    unique, so a paid order line grants its entitlement exactly once."""

    class Kind(models.TextChoices):
        PASS = "pass", _("Pass")
        BOOKING = "booking", _("Booking")
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
    facility = models.ForeignKey(
        Facility,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Only at this facility (a booking). Empty: every facility of the kind."),
    )
    sale_ref = models.CharField(_("sale"), max_length=80, null=True, blank=True, unique=True)
    # The product sold, for a sale (empty for a staff gesture or the demo's grants).
    product = models.ForeignKey(
        "Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product"),
    )
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
                    Q(kind__in=["pass", "booking"], entries_total__isnull=True)
                    & Q(entries_left__isnull=True)
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
        return f"{self.label} — {self.holder}"


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
    pay_per_entry_product = models.ForeignKey(
        "Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pay per entry from the wallet"),
        help_text=_(
            "Without any entitlement, an entrance charges this product's price (the tariff "
            "engine, on the day) to the holder's wallet. Empty: no pay-per-entry."
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

    The `school_holidays` schedule applies during the school holidays of the territory
    (identity.schooling: its SchoolHoliday table, and the summers between two school years) when
    the facility has at least one slot in it; otherwise the normal schedule applies every day."""

    class Schedule(models.TextChoices):
        NORMAL = "normal", _("Normal")
        SCHOOL_HOLIDAYS = "school_holidays", _("School holidays")

    class Weekday(models.IntegerChoices):
        MONDAY = 0, pgettext_lazy("weekday", "Monday")
        TUESDAY = 1, pgettext_lazy("weekday", "Tuesday")
        WEDNESDAY = 2, pgettext_lazy("weekday", "Wednesday")
        THURSDAY = 3, pgettext_lazy("weekday", "Thursday")
        FRIDAY = 4, pgettext_lazy("weekday", "Friday")
        SATURDAY = 5, pgettext_lazy("weekday", "Saturday")
        SUNDAY = 6, pgettext_lazy("weekday", "Sunday")

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
        return f"{self.facility}: {self.inside} ({short_date(self.day)})"


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


# --- Products and the tariff engine's grids (services/catalog/tariffs.py) --------------------
# Prices are integer cents (EUR). A grid is in force from `valid_from` to `valid_until` (the
# last day, inclusive; empty: until a later grid closes it). A grid whose first day has come is
# never edited again (actions.publish_tariff_grid, the admin): a price change is a new grid
# from a future date, so a quote dated before it still gets the old price.


class Product(models.Model):
    """What a resident buys: a single entry, a book of prepaid entries, a season or annual pass,
    a membership, a quota (a yearly allowance: `entries` uses), or lessons (places in a
    session sold by a service, services/swimming_lessons). A sale gives the buyer's chosen
    person an Entitlement on `facility_kind` (actions.fulfil_product_sale)."""

    class Kind(models.TextChoices):
        SINGLE_ENTRY = "single_entry", _("Single entry")
        ENTRY_BOOK = "entry_book", _("Entry book")
        PASS = "pass", _("Pass")
        MEMBERSHIP = "membership", _("Membership")
        QUOTA = "quota", _("Quota")
        LESSON = "lesson", _("Lessons")

    public_id = PublicIdField()
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=120)
    facility_kind = models.CharField(_("facilities"), max_length=20, choices=Facility.Kind.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    entries = models.PositiveIntegerField(
        _("entries"), null=True, blank=True, help_text=_("Entry books and quotas only.")
    )
    validity_days = models.PositiveIntegerField(
        _("valid for (days)"),
        null=True,
        blank=True,
        help_text=_("From the day of the sale, that day included. Or give an end of season."),
    )
    season_ends_on = models.DateField(
        _("end of season"),
        null=True,
        blank=True,
        help_text=_("Valid until this date whatever the day of the sale."),
    )
    active = models.BooleanField(_("on sale"), default=True)
    regie_code = models.SlugField(
        _("collection office (régie) code"),
        max_length=20,
        blank=True,
        help_text=_("The régie (payments) that collects its sales and pay-per-entry."),
    )
    # Eligibility (services/catalog/eligibility.py): on the day of the first session for
    # lessons, on the day of the sale otherwise.
    min_age = models.PositiveSmallIntegerField(
        _("minimum age"), null=True, blank=True, help_text=_("Years, included. Empty: none.")
    )
    max_age = models.PositiveSmallIntegerField(
        _("maximum age"), null=True, blank=True, help_text=_("Years, included. Empty: none.")
    )
    residents_only = models.BooleanField(
        _("residents only"),
        default=False,
        help_text=_("Only for people living in the territory that day (address history)."),
    )
    held_once = models.BooleanField(
        _("held once at a time"),
        default=False,
        help_text=_(
            "Not sold again to someone who holds it still valid (a membership is always so)."
        ),
    )

    class Meta:
        ordering = ["facility_kind", "name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind__in=["entry_book", "quota"], entries__isnull=False, entries__gt=0)
                    | (~Q(kind__in=["entry_book", "quota"]) & Q(entries__isnull=True))
                ),
                name="product_entries_only_on_entry_books_and_quotas",
            ),
            models.CheckConstraint(
                condition=(
                    Q(validity_days__isnull=False, validity_days__gt=0, season_ends_on__isnull=True)
                    | Q(validity_days__isnull=True, season_ends_on__isnull=False)
                    # Lessons are valid on the days of their sessions.
                    | Q(kind="lesson", validity_days__isnull=True, season_ends_on__isnull=True)
                ),
                name="product_has_one_validity_rule_or_is_lessons",
            ),
            models.CheckConstraint(
                condition=Q(min_age__isnull=True)
                | Q(max_age__isnull=True)
                | Q(max_age__gte=models.F("min_age")),
                name="product_age_range_is_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def cannot_be_held_twice(self) -> bool:
        return self.held_once or self.kind == self.Kind.MEMBERSHIP


class QuotientBracket(models.Model):
    """One family-quotient bracket of the territory (QF1 ≤ 500 €, QF2 ≤ 900 €, …), the same for
    every product. The brackets in force on a day are those of the latest `valid_from` on or
    before it; a household's bracket is the first whose `max_amount` (euros, inclusive) holds
    its quotient, the last bracket having no maximum."""

    number = models.PositiveSmallIntegerField(_("number"))
    label = models.CharField(_("label"), max_length=60)
    max_amount = models.PositiveIntegerField(
        _("up to (€, included)"), null=True, blank=True, help_text=_("Empty: no maximum.")
    )
    valid_from = models.DateField(_("valid from"))

    class Meta:
        ordering = ["-valid_from", "number"]
        verbose_name = _("family-quotient bracket")
        verbose_name_plural = _("family-quotient brackets")
        constraints = [
            models.UniqueConstraint(
                fields=["valid_from", "number"], name="one_quotient_bracket_number_per_date"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="quotient_bracket_from_1"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({short_date(self.valid_from)})"


class TariffGrid(models.Model):
    """The prices of a product over a period: its lines. At most one grid per product is in
    force on a day (checked by actions.publish_tariff_grid)."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="grids")
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(
        _("valid until (included)"), null=True, blank=True, help_text=_("Empty: no end yet.")
    )
    published_at = models.DateTimeField(default=timezone.now, editable=False)
    # True when its end was set by the publication of the next grid, not by the administrator:
    # withdrawing that next grid before its first day gives this one back its open end.
    ended_by_successor = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["product", "-valid_from"]
        verbose_name = _("tariff grid")
        verbose_name_plural = _("tariff grids")
        constraints = [
            models.UniqueConstraint(
                fields=["product", "valid_from"], name="one_tariff_grid_per_product_and_start"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="tariff_grid_period_is_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} — {short_date(self.valid_from)}"

    def has_started(self, today) -> bool:
        return self.valid_from <= today


class TariffLine(models.Model):
    """One price of a grid and whom it applies to. Each criterion is either a value or `any`
    (an empty `qf_bracket` means any bracket, a household without a declared quotient included).
    services/catalog/tariffs.py picks the most specific line that matches a person."""

    ANY = "any"

    class Residency(models.TextChoices):
        RESIDENT = "resident", _("Resident")
        NON_RESIDENT = "non_resident", _("Non-resident")
        ANY = "any", _("Any")

    class AgeBracket(models.TextChoices):
        CHILD = "child", _("Child (under 18)")
        ADULT = "adult", _("Adult")
        SENIOR = "senior", _("Senior (65 and over)")
        ANY = "any", _("Any")

    class ReducedCategory(models.TextChoices):
        STUDENT = "student", _("Student")
        JOB_SEEKER = "job_seeker", _("Job seeker")
        DISABILITY = "disability", _("Disability")
        NONE = "none", _("No reduced rate")
        ANY = "any", _("Any")

    grid = models.ForeignKey(TariffGrid, on_delete=models.CASCADE, related_name="lines")
    residency = models.CharField(
        _("residency"), max_length=20, choices=Residency.choices, default=Residency.ANY
    )
    age_bracket = models.CharField(
        _("age"), max_length=20, choices=AgeBracket.choices, default=AgeBracket.ANY
    )
    qf_bracket = models.PositiveSmallIntegerField(
        _("family-quotient bracket"), null=True, blank=True, help_text=_("Empty: any.")
    )
    reduced_category = models.CharField(
        _("reduced rate"),
        max_length=20,
        choices=ReducedCategory.choices,
        default=ReducedCategory.ANY,
    )
    price_cents = models.PositiveIntegerField(_("price (cents)"))

    class Meta:
        ordering = ["grid", "pk"]
        verbose_name = _("tariff line")
        verbose_name_plural = _("tariff lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(price_cents__gte=0), name="tariff_line_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(qf_bracket__isnull=True) | Q(qf_bracket__gte=1),
                name="tariff_line_qf_bracket_from_1",
            ),
        ]

    def __str__(self) -> str:
        """Whom the price applies to, then the price ("Résident, Enfant — 2,50 €")."""
        whom = [
            label
            for value, label in [
                (self.residency, self.get_residency_display()),
                (self.age_bracket, self.get_age_bracket_display()),
                (self.reduced_category, self.get_reduced_category_display()),
            ]
            if value != self.ANY
        ]
        if self.qf_bracket:
            whom.append(gettext("bracket %(number)s") % {"number": self.qf_bracket})
        return f"{', '.join(whom) or gettext('Everyone')} — {format_cents(self.price_cents)}"
