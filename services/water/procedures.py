"""Water-meter reading: the meter's number and its index, checked against the previous reading
of that meter (an index never goes down, a meter belongs to one household); recorded when the
town accepts it."""

import re
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from identity.errors import Conflict
from services.procedures.errors import FieldErrors
from services.procedures.fields import DateField, NumberField, Step, TextField
from services.procedures.types import ProcedureType

from .models import MeterReading

KEY = "water_meter_reading"
METER_NUMBER = re.compile(r"^[A-Z0-9]{6,14}$")


def previous_reading(meter_number: str) -> MeterReading | None:
    return (
        MeterReading.objects.filter(meter_number=meter_number).order_by("-read_on", "-pk").first()
    )


def _check(data, household) -> None:
    number = data.get("meter_number", "")
    if not METER_NUMBER.match(number):
        raise FieldErrors(
            {"meter_number": _("A meter number has 6 to 14 letters and digits, as on the meter.")}
        )
    previous = previous_reading(number)
    if previous is None:
        return
    if previous.household_id != household.pk:
        raise FieldErrors({"meter_number": _("This meter is not registered at your address.")})
    if data["index"] < previous.index:
        raise FieldErrors(
            {
                "index": _(
                    "The index cannot go down: the previous reading, on %(day)s, was %(index)s m³."
                )
                % {"day": previous.read_on.strftime("%d/%m/%Y"), "index": previous.index}
            }
        )
    if date.fromisoformat(data["read_on"]) < previous.read_on:
        raise FieldErrors({"read_on": _("A later reading of this meter is already recorded.")})


def validate(data, context) -> None:
    _check({**data, "meter_number": str(data.get("meter_number", "")).upper()}, context.household)


def accepted(file, actor) -> None:
    """Record the reading, checked again (another reading may have been recorded meanwhile)."""
    data = {**file.data, "meter_number": file.data["meter_number"].upper()}
    list(MeterReading.objects.select_for_update().filter(meter_number=data["meter_number"]))
    try:
        _check(data, file.household)
    except FieldErrors as refused:
        raise Conflict(refused.message, code="reading_refused") from refused
    MeterReading.objects.create(
        meter_number=data["meter_number"],
        household=file.household,
        index=data["index"],
        read_on=date.fromisoformat(data["read_on"]),
        recorded_by=actor,
    )


def outcome_lines(file) -> list[str]:
    return [
        _("Index %(index)s m³ of meter %(meter)s, read on %(day)s: recorded.")
        % {
            "index": file.data["index"],
            "meter": file.data["meter_number"].upper(),
            "day": date.fromisoformat(file.data["read_on"]).strftime("%d/%m/%Y"),
        }
    ]


READING = ProcedureType(
    key=KEY,
    name=gettext_lazy("Water-meter reading"),
    service="water",
    summary=gettext_lazy("Send the index of your water meter; it is checked against the last one."),
    life_events=("home", "moving"),
    keywords=("eau", "compteur", "releve", "index"),
    answer_days=15,
    validate=validate,
    on_accept=accepted,
    outcome_lines=outcome_lines,
    steps=(
        Step(
            "reading",
            gettext_lazy("The reading"),
            (
                TextField(
                    name="meter_number",
                    label=gettext_lazy("Meter number"),
                    max_length=14,
                    help=gettext_lazy("As printed on the meter, letters and digits."),
                ),
                NumberField(name="index", label=gettext_lazy("Index (m³)"), maximum=999_999),
                DateField(name="read_on", label=gettext_lazy("Read on"), past=True),
            ),
        ),
    ),
)
