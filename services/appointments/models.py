"""Appointments at the town's desks (the passport and identity card station, civil status,
social services…): a desk's weekly opening pattern and its exceptions give its slots
(queries.slots_of), each with as many places as the desk has parallel stations; residents and
staff take them as appointments. Rows are written by actions only (the desk's row lock keeps a
slot from being given twice)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from identity.models import Facility, Person, PublicIdField, User


class Desk(models.Model):
    """A desk where residents come by appointment, at a facility of the town."""

    class Kind(models.TextChoices):
        IDENTITY = "identity", _("Passports and identity cards")
        CIVIL_STATUS = "civil_status", _("Civil status")
        SOCIAL = "social", _("Social services")
        OTHER = "other", _("Other")

    public_id = PublicIdField()
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="+", verbose_name=_("facility")
    )
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    slot_minutes = models.PositiveSmallIntegerField(_("slot length (minutes)"), default=15)
    stations = models.PositiveSmallIntegerField(
        _("parallel stations"),
        default=1,
        help_text=_("How many residents are received at the same time."),
    )
    book_ahead_days = models.PositiveSmallIntegerField(
        _("bookable days ahead"), default=60, help_text=_("How far ahead one may book.")
    )
    min_notice_minutes = models.PositiveIntegerField(
        _("booking notice (minutes)"),
        default=120,
        help_text=_("How late before a slot one may still book it online."),
    )
    cancel_notice_minutes = models.PositiveIntegerField(
        _("cancellation notice (minutes)"),
        default=1440,
        help_text=_("How late before the appointment a resident may still cancel or move it."),
    )
    what_to_bring = models.TextField(_("what to bring"), blank=True)
    needs_pre_application = models.BooleanField(
        _("asks for the ANTS pre-application number"),
        default=False,
        help_text=_("Passport and identity card station: published to the State's network."),
    )
    residents_only = models.BooleanField(
        _("residents of the territory only"),
        default=False,
        help_text=_("Social services: only households living in a commune of the territory."),
    )
    address = models.CharField(_("public entrance address"), max_length=200, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    active = models.BooleanField(_("open for booking"), default=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("appointment desk")
        verbose_name_plural = _("appointment desks")
        constraints = [
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=5, slot_minutes__lte=240), name="desk_slot_length"
            ),
            models.CheckConstraint(condition=Q(stations__gte=1), name="desk_has_a_station"),
        ]

    def __str__(self) -> str:
        return self.name


class OpeningPattern(models.Model):
    """The desk receives on this weekday (0 Monday) from `starts` to `ends`, local time."""

    desk = models.ForeignKey(
        Desk, on_delete=models.CASCADE, related_name="patterns", verbose_name=_("desk")
    )
    weekday = models.PositiveSmallIntegerField(
        _("weekday"),
        choices=[
            (0, pgettext_lazy("weekday", "Monday")),
            (1, pgettext_lazy("weekday", "Tuesday")),
            (2, pgettext_lazy("weekday", "Wednesday")),
            (3, pgettext_lazy("weekday", "Thursday")),
            (4, pgettext_lazy("weekday", "Friday")),
            (5, pgettext_lazy("weekday", "Saturday")),
            (6, pgettext_lazy("weekday", "Sunday")),
        ],
    )
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("to"))

    class Meta:
        ordering = ["weekday", "starts"]
        verbose_name = _("opening pattern")
        verbose_name_plural = _("opening patterns")
        constraints = [
            models.CheckConstraint(condition=Q(ends__gt=models.F("starts")), name="pattern_order"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="pattern_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"


class DeskDay(models.Model):
    """An exception on one day: the desk is closed all day, or opens (also) from `starts` to
    `ends`. A closed day wins over an exceptional opening the same day."""

    class Kind(models.TextChoices):
        CLOSED = "closed", _("Closed")
        OPEN = "open", _("Exceptional opening")

    desk = models.ForeignKey(
        Desk, on_delete=models.CASCADE, related_name="exceptions", verbose_name=_("desk")
    )
    day = models.DateField(_("day"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    starts = models.TimeField(_("from"), null=True, blank=True)
    ends = models.TimeField(_("to"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=120, blank=True)

    class Meta:
        ordering = ["day", "starts"]
        verbose_name = _("closure or exceptional opening")
        verbose_name_plural = _("closures and exceptional openings")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="closed")
                | Q(starts__isnull=False, ends__isnull=False, ends__gt=models.F("starts")),
                name="desk_day_opening_has_hours",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day:%d/%m/%Y} {self.get_kind_display()}"


class Channel(models.TextChoices):
    """How the appointment was made (as Publik records it)."""

    WEB = "web", _("Online")
    COUNTER = "counter", _("At the counter")
    PHONE = "phone", _("By phone")
    API = "api", _("API")


class Appointment(models.Model):
    """One place of one slot for a person."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        ARRIVED = "arrived", _("Arrived")
        NO_SHOW = "no_show", _("Did not come")
        CANCELLED = "cancelled", _("Cancelled")

    public_id = PublicIdField()
    desk = models.ForeignKey(
        Desk, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("desk")
    )
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="+", verbose_name=_("person")
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.BOOKED
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    booked_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("booked by")
    )
    idempotency_key = models.CharField(max_length=80, blank=True)
    pre_application_number = models.CharField(
        _("pre-application number"), max_length=10, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    reminded_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    marked_at = models.DateTimeField(null=True, blank=True)
    # The national network (ANTS): the start declared there for the pre-application number
    # (None: nothing declared), and whether the network still has to be brought in step.
    ants_declared_at = models.DateTimeField(null=True, blank=True, editable=False)
    ants_pending = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        indexes = [
            models.Index(fields=["desk", "starts_at"]),
            models.Index(
                fields=["ants_pending"],
                condition=Q(ants_pending=True),
                name="appointment_ants_pending",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="appointment_order"
            ),
            # The same request sent twice books once (actions.book_appointment).
            models.UniqueConstraint(
                fields=["booked_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="appointment_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.desk} — {timezone.localtime(self.starts_at):%d/%m/%Y %H:%M}"

    @property
    def live(self) -> bool:
        return self.status == self.Status.BOOKED


class SlotBlock(models.Model):
    """Staff took one station of a slot out of booking (a colleague away, a reserved time)."""

    public_id = PublicIdField()
    desk = models.ForeignKey(
        Desk, on_delete=models.CASCADE, related_name="blocks", verbose_name=_("desk")
    )
    starts_at = models.DateTimeField(_("starts at"))
    reason = models.CharField(_("reason"), max_length=120, blank=True)
    blocked_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("blocked by")
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("blocked slot")
        verbose_name_plural = _("blocked slots")
        indexes = [models.Index(fields=["desk", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.desk} — {timezone.localtime(self.starts_at):%d/%m/%Y %H:%M}"
