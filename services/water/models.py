"""Water-meter readings residents send: the index of a meter on a day. A reading is recorded
when the town accepts it; the next one is checked against the last (an index never goes down)."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.models import AppendOnlyModel, Household, User, short_date


class MeterReading(AppendOnlyModel):
    meter_number = models.CharField(_("meter number"), max_length=20, db_index=True)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
    index = models.PositiveIntegerField(_("index (m³)"))
    read_on = models.DateField(_("read on"))
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["-read_on", "-pk"]
        verbose_name = _("meter reading")
        verbose_name_plural = _("meter readings")

    def __str__(self) -> str:
        return f"{self.meter_number}: {self.index} ({short_date(self.read_on)})"
