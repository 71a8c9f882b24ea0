"""What the catalogue answers for at a gate: access points of facilities and the entitlements
people hold. The Services issue adds products, tariffs, opening hours and occupancy."""

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
