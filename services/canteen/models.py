"""The school canteen and after-school care: sites and their services (capacity, days, booking
rule as data), menus with the 14 regulated allergens, bookings one row per child, service and
day, and the per-day counters that hold a service's capacity."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from identity.models import Facility, Household, Person, PublicIdField, User, short_date
from services.catalog.models import Product


class Allergen(models.TextChoices):
    """The 14 allergens to declare (EU regulation 1169/2011, annex II)."""

    GLUTEN = "gluten", _("Cereals containing gluten")
    CRUSTACEANS = "crustaceans", _("Crustaceans")
    EGGS = "eggs", _("Eggs")
    FISH = "fish", _("Fish")
    PEANUTS = "peanuts", _("Peanuts")
    SOYBEANS = "soybeans", _("Soybeans")
    MILK = "milk", _("Milk")
    NUTS = "nuts", _("Nuts")
    CELERY = "celery", _("Celery")
    MUSTARD = "mustard", _("Mustard")
    SESAME = "sesame", _("Sesame seeds")
    SULPHITES = "sulphites", _("Sulphur dioxide and sulphites")
    LUPIN = "lupin", _("Lupin")
    MOLLUSCS = "molluscs", _("Molluscs")


def validate_allergens(value: str) -> None:
    """Allergen codes of the regulated list only, comma-separated ("gluten,milk")."""
    unknown = [code for code in value.split(",") if code and code not in Allergen.values]
    if unknown:
        raise ValidationError(
            _("Unknown allergen: %(codes)s. Use: %(known)s."),
            params={"codes": ", ".join(unknown), "known": ", ".join(Allergen.values)},
        )


class CanteenSite(models.Model):
    """Where a school's children eat or are cared for (a school may share a site)."""

    public_id = PublicIdField()
    school = models.ForeignKey(
        Facility,
        on_delete=models.PROTECT,
        related_name="canteen_sites",
        limit_choices_to={"kind": Facility.Kind.SCHOOL},
    )
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        ordering = ["name"]
        verbose_name = _("canteen site")
        verbose_name_plural = _("canteen sites")

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    """A service a site runs (lunch, morning or evening care, the Wednesday centre), its
    capacity per day, the weekdays it runs, and its booking rule as data:

    - `days_before`: until `rule_time` `rule_days` calendar days before ("until 15:00 the day
      before": 1 day, 15:00:00);
    - `working_days_before`: until `rule_time` `rule_days` working days before, weekends and
      public holidays not counted;
    - `week_before`: the whole week (Monday to Sunday) until `rule_time` on `rule_weekday` of
      the week before ("until Tuesday 23:59:59 for the whole next week").

    During the school holidays (a service that runs then), `holiday_rule_days` calendar days
    before at `rule_time` applies instead, when set ("15 days ahead for the holidays")."""

    class Kind(models.TextChoices):
        LUNCH = "lunch", _("Lunch")
        MORNING_CARE = "morning_care", _("Morning care")
        EVENING_CARE = "evening_care", _("Evening care")
        WEDNESDAY_CENTRE = "wednesday_centre", _("Wednesday leisure centre")

    class Rule(models.TextChoices):
        DAYS_BEFORE = "days_before", _("Days before, at a time")
        WORKING_DAYS_BEFORE = "working_days_before", _("Working days before, at a time")
        WEEK_BEFORE = "week_before", _("The week before, on a weekday at a time")

    public_id = PublicIdField()
    site = models.ForeignKey(CanteenSite, on_delete=models.PROTECT, related_name="services")
    kind = models.CharField(_("service"), max_length=20, choices=Kind.choices)
    capacity = models.PositiveIntegerField(_("places per day"))
    weekdays = models.CharField(
        _("days it runs"),
        max_length=13,
        default="0,1,3,4",
        help_text=_("Days of the week, 0 for Monday to 6 for Sunday, separated by commas."),
    )
    runs_in_holidays = models.BooleanField(_("runs during school holidays"), default=False)
    rule = models.CharField(_("booking rule"), max_length=20, choices=Rule.choices)
    rule_days = models.PositiveSmallIntegerField(_("days before"), default=1)
    rule_weekday = models.PositiveSmallIntegerField(
        _("weekday of the week before (0 = Monday)"), default=1
    )
    rule_time = models.TimeField(_("until (time)"))
    holiday_rule_days = models.PositiveSmallIntegerField(
        _("days before, during the holidays"), null=True, blank=True
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    penalty_product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The price of a meal taken without booking."),
    )
    packed_meal_product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_(
            "The price of a lunch for a child with a care plan (PAI) who brings a packed meal "
            "from home."
        ),
    )
    # The town's choice: each day paid from the wallet at booking (not on the monthly bill).
    prepaid = models.BooleanField(
        _("paid from the wallet at booking"),
        default=False,
        help_text=_(
            "Each booked day is paid from the family's wallet when booked and refunded to it "
            "when cancelled before the deadline; an empty wallet refuses the booking."
        ),
    )

    class Meta:
        ordering = ["site", "kind"]
        verbose_name = _("canteen or care service")
        verbose_name_plural = _("canteen and care services")
        constraints = [
            models.UniqueConstraint(fields=["site", "kind"], name="one_service_kind_per_site"),
            models.CheckConstraint(condition=Q(rule_weekday__lte=6), name="rule_weekday_0_to_6"),
        ]

    def __str__(self) -> str:
        return f"{self.site} — {self.get_kind_display()}"

    @property
    def runs_on_weekdays(self) -> frozenset[int]:
        return frozenset(int(d) for d in self.weekdays.split(",") if d.strip().isdigit())

    @property
    def serves_lunch(self) -> bool:
        """The kitchen cooks for it: a PAI child's packed meal replaces its lunch (the care
        services serve no meal to replace)."""
        return self.kind == self.Kind.LUNCH


class ServiceDay(models.Model):
    """How many places of a service are booked on a day: the row a booking locks (and counts
    on) so that a service never goes over its capacity."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    booked = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "day"], name="one_counter_per_service_day")
        ]

    def __str__(self) -> str:
        return f"{short_date(self.day)}: {self.booked}"


class Booking(models.Model):
    """One child, one service, one day. Cancelling keeps the row (state `cancelled`)."""

    class State(models.TextChoices):
        BOOKED = "booked", _("Booked")
        CANCELLED = "cancelled", _("Cancelled")
        SERVED = "served", _("Served")
        ABSENT = "absent", _("Absent")

    public_id = PublicIdField()
    child = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("child")
    )
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("service")
    )
    day = models.DateField(_("day"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.BOOKED)
    booked_at = models.DateTimeField(_("booked at"), default=timezone.now)
    booked_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    # Served at the service without a booking: billed at the penalty price.
    without_booking = models.BooleanField(default=False)
    # The child brings a packed meal from home that day (a PAI diet): what was true for the
    # kitchen when the day's list became final. Set from the diet when booked, and by a diet
    # change while the day's deadline is open (actions._write_diets); billed at the service's
    # packed-meal price.
    packed_meal = models.BooleanField(_("packed meal (PAI)"), default=False)

    class Meta:
        ordering = ["day", "service"]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        constraints = [
            models.UniqueConstraint(
                fields=["child", "service", "day"], name="one_booking_per_child_service_day"
            )
        ]
        indexes = [models.Index(fields=["service", "day", "state"])]

    def __str__(self) -> str:
        return f"{self.child}, {self.service.get_kind_display()} — {short_date(self.day)}"


class BookingRequest(models.Model):
    """A booking request already answered, by its idempotency key: the same request sent again
    (a retry, a double click) gets the first answer and books nothing more."""

    key = models.CharField(max_length=80)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    answer = models.JSONField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_answer_per_booking_key")
        ]

    def __str__(self) -> str:
        return gettext("Booking request of %(when)s") % {"when": short_date(self.at)}


class Menu(models.Model):
    """A site's menu for a day, published to parents (actions.publish_menus): parents see
    published menus only."""

    site = models.ForeignKey(
        CanteenSite, on_delete=models.CASCADE, related_name="menus", verbose_name=_("site")
    )
    day = models.DateField(_("day"))
    published = models.BooleanField(_("published to parents"), default=False, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )

    class Meta:
        ordering = ["day"]
        verbose_name = _("menu")
        verbose_name_plural = _("menus")
        constraints = [models.UniqueConstraint(fields=["site", "day"], name="one_menu_per_day")]

    def __str__(self) -> str:
        return f"{self.site} — {short_date(self.day)}"


class Dish(models.Model):
    class Course(models.TextChoices):
        STARTER = "starter", _("Starter")
        MAIN = "main", _("Main course")
        SIDE = "side", _("Side")
        CHEESE = "cheese", _("Cheese or dairy")
        DESSERT = "dessert", _("Dessert")

    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="dishes")
    course = models.CharField(_("course"), max_length=10, choices=Course.choices)
    name = models.CharField(_("dish"), max_length=120)
    # Allergen codes (Allergen), comma-separated: "gluten,milk".
    allergens = models.CharField(
        _("allergens"), max_length=200, blank=True, validators=[validate_allergens]
    )

    class Meta:
        ordering = ["menu", "course", "pk"]
        verbose_name = _("dish")
        verbose_name_plural = _("dishes")

    def __str__(self) -> str:
        return self.name

    @property
    def allergen_codes(self) -> list[str]:
        return [code for code in self.allergens.split(",") if code]

    @property
    def allergen_labels(self) -> list[str]:
        return [Allergen(code).label for code in self.allergen_codes if code in Allergen.values]


class Diet(models.Model):
    """A child's diet, recorded once and shown on every kitchen list: one row per child and
    kind. An allergy with a care plan (PAI) holds the PAI document of the safe it rests on."""

    class Kind(models.TextChoices):
        NO_PORK = "no_pork", _("No pork")
        NO_MEAT = "no_meat", _("No meat")
        VEGETARIAN = "vegetarian", _("Vegetarian")
        ALLERGY_PAI = "allergy_pai", _("Allergy with a care plan (PAI)")
        TEXTURE = "texture", _("Adapted texture")

    public_id = PublicIdField()
    child = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="+", verbose_name=_("child")
    )
    kind = models.CharField(_("diet"), max_length=20, choices=Kind.choices)
    # What the kitchen must know: the allergens of a PAI, the texture ("mixed", "cut small").
    details = models.CharField(_("details"), max_length=200, blank=True)
    care_plan = models.ForeignKey(
        "documents_vault.Document",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("care plan (PAI)"),
    )
    recorded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    # Corrected by the town (not the parent's own declaration as it stands).
    by_town = models.BooleanField(_("corrected by the town"), default=False)
    # A PAI child may bring their meal from home instead of the kitchen's lunch.
    packed_meal = models.BooleanField(
        _("brings a packed meal from home"),
        default=False,
        help_text=_("For an allergy with a care plan (PAI) only."),
    )

    class Meta:
        ordering = ["child", "kind"]
        verbose_name = _("diet")
        verbose_name_plural = _("diets")
        constraints = [
            models.UniqueConstraint(fields=["child", "kind"], name="one_diet_kind_per_child"),
            models.CheckConstraint(
                condition=~Q(kind="allergy_pai") | Q(care_plan__isnull=False),
                name="pai_diet_has_its_care_plan",
            ),
            models.CheckConstraint(
                condition=Q(packed_meal=False) | Q(kind="allergy_pai"),
                name="only_a_pai_diet_brings_a_packed_meal",
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


from .billing_models import AbsenceReport, PrepaidMeal  # noqa: E402,F401 - billing's tables
