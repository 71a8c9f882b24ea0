"""The canteen's billing tables, kept apart from `models.py` (imported there) so that billing
stays one self-contained block of the canteen:

- a justified absence: after the deadline, a parent reports that a booked child was absent
  (or will be) with a medical certificate from the household's safe; a clerk accepts or
  refuses it. Accepted, the day is not billed (or credited back by a credit note when its
  invoice was already issued);
- a prepaid meal: at a service the town runs on prepayment, each booked day paid from the
  booking guardian's wallet, refunded to it when cancelled before the deadline."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from identity.models import Person, PublicIdField, User


class AbsenceReport(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Awaiting a decision")
        ACCEPTED = "accepted", _("Accepted: not billed")
        REFUSED = "refused", _("Refused: billed")

    public_id = PublicIdField()
    booking = models.OneToOneField(
        "canteen.Booking", on_delete=models.PROTECT, related_name="absence_report"
    )
    # The certificate, from the safe (shared with this report while it is examined).
    document = models.ForeignKey(
        "documents_vault.Document", on_delete=models.PROTECT, related_name="+"
    )
    reported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    refusal_reason = models.CharField(_("reason for the refusal"), max_length=300, blank=True)
    # The credit note's reference, when the day's invoice was already issued.
    credit_note = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["reported_at", "pk"]
        verbose_name = _("justified absence")
        verbose_name_plural = _("justified absences")

    def __str__(self) -> str:
        return gettext("Absence: %(booking)s") % {"booking": self.booking}


class PrepaidMeal(models.Model):
    """One booked day paid from a wallet at booking (a day booked again after a cancellation
    is paid again: a new row). Refunded to the same wallet on a cancellation before the
    deadline, or on an accepted absence."""

    booking = models.ForeignKey(
        "canteen.Booking", on_delete=models.PROTECT, related_name="prepaid_meals"
    )
    payer = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")  # the wallet
    regie = models.ForeignKey("payments.Regie", on_delete=models.PROTECT, related_name="+")
    amount_cents = models.PositiveIntegerField()
    explanation = models.CharField(max_length=200, blank=True)  # the tariff engine's why
    spending = models.CharField(max_length=100)  # the ledger transaction's idempotency key
    paid_at = models.DateTimeField(default=timezone.now)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("prepaid meal")
        verbose_name_plural = _("prepaid meals")
        constraints = [
            models.UniqueConstraint(
                fields=["booking"],
                condition=Q(refunded_at__isnull=True),
                name="one_unrefunded_prepayment_per_booking",
            ),
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="prepaid_meal_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return gettext("Prepaid: %(booking)s") % {"booking": self.booking}
