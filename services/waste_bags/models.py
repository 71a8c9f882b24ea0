"""Waste-sorting bags: a yearly quota of rolls per household, by household size, handed out at
a town-hall desk to any member of the household. The quota table is the town's (the admin);
what was handed out is an append-only log, written by actions.hand_out_bags only."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.models import AppendOnlyModel, Facility, Household, Person, User


class BagQuota(models.Model):
    """One line of a year's quota table: households of at least `min_members` people (and
    fewer than the next line's) get `rolls` rolls that year. 1: 2 rolls, 2: 3, 3: 4, 5: 5 reads
    "1 person: 2, 2 people: 3, 3–4 people: 4, 5 or more: 5"."""

    year = models.PositiveSmallIntegerField(_("year"))
    min_members = models.PositiveSmallIntegerField(
        _("household of at least (people)"),
        help_text=_("This line applies up to the next line's size; the last one has no limit."),
    )
    rolls = models.PositiveSmallIntegerField(_("rolls per year"))

    class Meta:
        ordering = ["-year", "min_members"]
        verbose_name = _("bag quota")
        verbose_name_plural = _("bag quotas")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "min_members"], name="one_bag_quota_per_year_and_size"
            ),
            models.CheckConstraint(condition=Q(min_members__gte=1), name="bag_quota_size_from_1"),
        ]

    def __str__(self) -> str:
        return f"{self.year}: {self.min_members}+ → {self.rolls}"


class BagDistribution(AppendOnlyModel):
    """Rolls handed out to a household at a desk (to whichever member presented a card)."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    quantity = models.PositiveSmallIntegerField(_("rolls"))
    staff = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("handed out at"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("bag distribution")
        verbose_name_plural = _("bag distributions")
        indexes = [models.Index(fields=["household", "year"])]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="bag_distribution_positive")
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.year}: {self.quantity}"
