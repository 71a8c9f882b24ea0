"""Téléalerte sign-up: an address of the territory and one to three phone numbers that receive
the town's emergency alerts; active once the town accepts it (a later sign-up replaces the
household's current one)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from services.procedures.errors import FieldErrors
from services.procedures.fields import AddressField, GroupField, PhoneField, Step, YesNoField
from services.procedures.types import ProcedureType

from .models import AlertSubscription

KEY = "emergency_alerts"


def validate(data, context) -> None:
    phones = [row["phone"] for row in data.get("phones", [])]
    if len(phones) != len(set(phones)):
        raise FieldErrors({"phones": _("The same phone number is given twice.")})
    if data.get("consent") is not True:
        raise FieldErrors({"consent": _("Alerts are sent only with your agreement.")})


def accepted(file, actor) -> None:
    now = timezone.now()
    AlertSubscription.objects.select_for_update().filter(
        household=file.household, ended_at__isnull=True
    ).update(ended_at=now)
    AlertSubscription.objects.create(
        household=file.household,
        address=file.data["address"],
        phones=[row["phone"] for row in file.data["phones"]],
        since=now,
    )


def outcome_lines(file) -> list[str]:
    return [
        _("The town's emergency alerts go to %(count)s phone number(s) from today.")
        % {"count": len(file.data["phones"])}
    ]


SIGN_UP = ProcedureType(
    key=KEY,
    name=gettext_lazy("Emergency alerts (téléalerte)"),
    service="alerts",
    summary=gettext_lazy(
        "Receive the town's emergency alerts (floods, storms, water cuts) by phone for your "
        "address."
    ),
    life_events=("home", "moving"),
    keywords=("telealerte", "alerte", "inondation", "urgence", "sms"),
    answer_days=7,
    validate=validate,
    on_accept=accepted,
    outcome_lines=outcome_lines,
    steps=(
        Step(
            "alerts",
            gettext_lazy("Where and how to warn you"),
            (
                AddressField(name="address", label=gettext_lazy("Address"), prefill="address"),
                GroupField(
                    name="phones",
                    label=gettext_lazy("Phone numbers"),
                    fields=(PhoneField(name="phone", label=gettext_lazy("Phone")),),
                    minimum=1,
                    maximum=3,
                ),
                YesNoField(
                    name="consent",
                    label=gettext_lazy(
                        "I agree to receive the town's emergency alerts at these numbers"
                    ),
                ),
            ),
        ),
    ),
)
