"""Swimming lessons at the territory's pools: a course of one or more sessions at a pool, sold as
a catalogue product (kind `lesson`) with a limited number of places.

A place is held when the order is created (`LessonBooking`, status `held`, until `held_until`),
confirmed when the order is paid and released on refund, cancellation or expiry. A hold past its
`held_until` no longer counts, whether or not the sweeper (tasks.release_expired_holds) has
marked it `expired` yet. Rows are written by actions.py only."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.models import Facility, Person, PublicIdField, User
from services.catalog.models import Product


class LessonCourse(models.Model):
    """A course of swimming lessons (a single session is a course of one) at a pool. Buying it
    books every session: the price is the product's (services.catalog.tariffs.quote)."""

    public_id = PublicIdField()
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": Product.Kind.LESSON},
        verbose_name=_("product"),
    )
    facility = models.ForeignKey(
        Facility,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": Facility.Kind.POOL},
        verbose_name=_("pool"),
    )
    name = models.CharField(_("name"), max_length=120)
    places = models.PositiveIntegerField(_("places"))
    on_sale = models.BooleanField(_("on sale"), default=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("lesson course")
        verbose_name_plural = _("lesson courses")
        constraints = [
            models.CheckConstraint(condition=Q(places__gte=1), name="lesson_course_has_places")
        ]

    def __str__(self) -> str:
        return self.name


class LessonSession(models.Model):
    """One session of a course: when it starts and ends (the pool's local time)."""

    course = models.ForeignKey(LessonCourse, on_delete=models.CASCADE, related_name="sessions")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("lesson session")
        verbose_name_plural = _("lesson sessions")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="lesson_session_is_ordered"
            )
        ]

    def __str__(self) -> str:
        return f"{self.course} — {timezone.localtime(self.starts_at):%d/%m/%Y %H:%M}"


class LessonBooking(models.Model):
    """A place in a course for a person: held while the order waits for its payment, then
    confirmed (with booking entitlements for the sessions' days), or released."""

    class Status(models.TextChoices):
        HELD = "held", _("Held, awaiting payment")
        CONFIRMED = "confirmed", _("Confirmed")
        EXPIRED = "expired", _("Expired (not paid in time)")
        RELEASED = "released", _("Released")

    public_id = PublicIdField()
    course = models.ForeignKey(LessonCourse, on_delete=models.PROTECT, related_name="bookings")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    held_until = models.DateTimeField(_("held until"))
    price_cents = models.PositiveIntegerField(_("price (cents)"))
    price_explanation = models.CharField(_("rate"), max_length=200, blank=True)
    order_ref = models.CharField(_("order"), max_length=80, blank=True)
    booked_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("lesson booking")
        verbose_name_plural = _("lesson bookings")
        indexes = [models.Index(fields=["course", "status", "held_until"])]
        constraints = [
            # A person holds at most one live place in a course.
            models.UniqueConstraint(
                fields=["course", "person"],
                condition=Q(status__in=["held", "confirmed"]),
                name="one_live_lesson_booking_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course} — {self.person_id} ({self.status})"
