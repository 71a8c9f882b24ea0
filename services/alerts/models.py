"""Téléalerte: the town's emergency alerts (floods, storms, water cuts) sent by phone to the
households that signed up, for an address."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from identity.models import Household


class AlertSubscription(models.Model):
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    address = models.JSONField()
    phones = models.JSONField(default=list)
    since = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-since"]
        verbose_name = _("alert subscription")
        verbose_name_plural = _("alert subscriptions")

    def __str__(self) -> str:
        return gettext("Alerts: %(household)s") % {"household": self.household}
