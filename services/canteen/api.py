"""The canteen in the public API: a parent books days of a service for a child in their care,
a month at a time (the busiest request of the year: `make bench-canteen` measures it).

All the days or none: a day that cannot be booked (a holiday, a closed day, after the deadline,
not enrolled) is a 422 naming `days` with the day and its reason; a day without a place left is
a 409 `full`; the same `idempotency_key` sent again returns the first answer and books nothing
more (409 `in_progress` while the first is still being handled)."""

import re

from ninja import Field, Router, Schema
from pydantic import field_validator

from identity.api_auth import session_or_token
from identity.api_types import Day
from identity.errors import Conflict, DomainError, Forbidden, NotFound
from identity.models import Person

from . import actions
from .models import Service

router = Router(tags=["canteen"])

PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,24}")
# Refusals that are a state of the service, not a fault of the request's fields.
STATE_CODES = {"full", "in_progress"}


class CanteenRefusalOut(Schema):
    code: str
    message: str
    field: str | None = None


class CanteenRequestInvalidOut(Schema):
    """django-ninja's own 422, when the body's shape is wrong: each problem with its location."""

    detail: list[dict]


class CanteenBookingIn(Schema):
    child: str = Field(max_length=24, pattern=r"^[A-Za-z0-9_-]+$")
    service: str = Field(max_length=24, pattern=r"^[A-Za-z0-9_-]+$")
    days: list[Day] = Field(min_length=1, max_length=actions.MAX_SPAN_DAYS)
    idempotency_key: str = Field(min_length=1, max_length=80)

    @field_validator("days")
    @classmethod
    def within_span(cls, days):
        if (max(days) - min(days)).days + 1 > actions.MAX_SPAN_DAYS:
            raise ValueError(f"the days span at most {actions.MAX_SPAN_DAYS} days")
        return days


class CanteenSkippedDayOut(Schema):
    day: str
    reason: str


class CanteenBookingOut(Schema):
    child: str
    service: str
    booked: list[str]
    skipped: list[CanteenSkippedDayOut]


class InvalidBooking(DomainError):
    status = 422


class BookingState(Conflict):
    pass


def _refusal(error: DomainError) -> DomainError:
    """The action's refusal with the API's status: 409 for a state, 422 for a field."""
    if isinstance(error, Conflict) or error.status != 400:
        return error
    if error.code in STATE_CODES:
        return BookingState(error.message, field=error.field, code=error.code)
    return InvalidBooking(error.message, field=error.field or "days", code=error.code)


@router.post(
    "/canteen/bookings",
    response={
        200: CanteenBookingOut,
        400: CanteenRefusalOut,
        403: CanteenRefusalOut,
        404: CanteenRefusalOut,
        409: CanteenRefusalOut,
        422: CanteenRefusalOut | CanteenRequestInvalidOut,
    },
    auth=session_or_token,
)
def book(request, payload: CanteenBookingIn):
    """Book `child` (a child in the caller's care) on each of `days` at `service`: all of them,
    or none with the reason of the first day that cannot be booked."""
    # The action checks that the caller acts for the child; a child of someone else's is
    # answered like an unknown one.
    child = Person.objects.select_related("household").filter(public_id=payload.child).first()
    if child is None:
        raise NotFound("No such child.", field="child")
    service = (
        Service.objects.select_related("site__school").filter(public_id=payload.service).first()
    )
    if service is None:
        raise NotFound("No such service.", field="service")
    try:
        answer = actions.book_days(
            actor=request.auth,
            child=child,
            service=service,
            days=payload.days,
            key=payload.idempotency_key,
        )
    except Forbidden as error:
        raise NotFound("No such child.", field="child") from error
    except DomainError as error:
        raise _refusal(error) from error
    return {
        "child": child.public_id,
        "service": service.public_id,
        **answer.as_dict(),
    }
