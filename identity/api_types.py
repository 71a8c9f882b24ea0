"""Field types shared by every ninja input schema, so that bad input is a 422 naming the field
the same way on every endpoint.

Days and times sent to the API must lie between 1900 and 9998: outside, a time is not always a
time (0001-01-01T00:00+14:00 has no UTC equivalent, and the databases store UTC), the day after
or before is not always a day, and no resident, reader or régie has any business there. The
same years as the régisseur's date filters (payments.forms.DayField)."""

from datetime import UTC, date, datetime
from typing import Annotated

from ninja import Schema
from pydantic import AfterValidator, AwareDatetime

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9998, 12, 31)
_FIRST_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)
_AFTER_LAST_INSTANT = datetime(9999, 1, 1, tzinfo=UTC)


def _day_in_range(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"a date between {FIRST_DAY.year} and {LAST_DAY.year}")
    return value


def _instant_in_range(value: datetime) -> datetime:
    try:
        in_utc = value.astimezone(UTC)
    except OverflowError:
        in_utc = None
    if in_utc is None or not _FIRST_INSTANT <= in_utc < _AFTER_LAST_INSTANT:
        raise ValueError(f"a time between {FIRST_DAY.year} and {LAST_DAY.year}, with its offset")
    return value


# A calendar day (a birth date, the first day of a period, the day of an export).
Day = Annotated[date, AfterValidator(_day_in_range)]
# A moment, with its UTC offset (a reader's clock).
AwareInstant = Annotated[AwareDatetime, AfterValidator(_instant_in_range)]


class ErrorOut(Schema):
    """The one error shape of the API (portal.api's handlers answer it too): a stable `code`, a
    message, and the field at fault when there is one."""

    code: str
    message: str
    field: str | None = None
