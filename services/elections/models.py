"""The elections ahead: registration on the electoral roll closes on the sixth Friday before
the vote (Code électoral, art. L17), and the procedure refuses requests after it."""

from datetime import date, timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _


def registration_deadline(vote_day: date) -> date:
    """The sixth Friday before the vote: the Friday before it (the vote being on a Sunday,
    two days before), then five weeks earlier. European elections of 9 June 2024: 3 May."""
    friday = vote_day - timedelta(days=(vote_day.weekday() - 4) % 7 or 7)
    return friday - timedelta(weeks=5)


class Election(models.Model):
    name = models.CharField(_("name"), max_length=120)
    vote_on = models.DateField(_("day of the vote (first round)"), unique=True)

    class Meta:
        ordering = ["vote_on"]
        verbose_name = _("election")
        verbose_name_plural = _("elections")

    def __str__(self) -> str:
        return self.name

    @property
    def registration_deadline(self) -> date:
        return registration_deadline(self.vote_on)
