"""Reference endpoints of `make bench-taps` (bench/README.md), mounted only when
SESAME_BENCH_ENDPOINTS is on (never in production).

Both take the taps' JSON (the same schema) and authenticate the reader exactly like
POST /api/v1/taps, so what they cost is what a tap cannot avoid:

- `ceiling`: the framework alone (middleware, routing, bearer auth, JSON parsing and
  validation, a JSON answer), and a constant; no SQL.
- `minimal`: the least work a tap can do: the ceiling, plus verifying the credential (AES/CMAC,
  tens of microseconds) to learn the card's UID, then one indexed SELECT of the card by UID and
  one INSERT of a (refused) tap row in a transaction: BEGIN, SELECT, INSERT, COMMIT.

They write only to the benchmark's own database: the tap rows have the reason `bench_minimal`
and the benchmark deletes them at its next setup.

`make bench-canteen` has one more: `canteen-minimal`, the least work a month booking can do
(below)."""

from django.db import transaction
from django.utils import timezone
from ninja import Router, Schema

from card import credentials
from card.api import TapIn, reader_auth
from card.models import Card, Tap
from identity.api_auth import session_or_token
from identity.errors import NotFound
from identity.models import Person
from services.canteen.api import CanteenBookingIn
from services.canteen.models import Booking, Service

router = Router(tags=["benchmark"])

CEILING_ANSWER = {"granted": False, "reason": "bench_ceiling"}


class BenchOut(Schema):
    granted: bool
    reason: str


@router.post("/bench/ceiling", response=BenchOut, auth=reader_auth, include_in_schema=False)
def ceiling(request, payload: TapIn):
    return CEILING_ANSWER


@router.post("/bench/minimal", response=BenchOut, auth=reader_auth, include_in_schema=False)
def minimal(request, payload: TapIn):
    now = timezone.now()
    try:
        presented = credentials.read(payload.credential, at=now)
    except credentials.InvalidCredential as error:
        return {"granted": False, "reason": error.reason}
    reader = request.auth
    with transaction.atomic():
        card = (
            Card.objects.filter(uid=presented.uid).order_by().values_list("pk", "holder_id").first()
        )
        Tap.objects.create(
            reader=reader,
            client_tap_id=payload.tap_id,
            access_point_id=reader.access_point_id,
            card_id=card[0] if card else None,
            holder_id=card[1] if card else None,
            credential=Tap.Credential.SUN,
            counter=presented.counter,
            reader_time=payload.reader_time,
            received_at=now,
            granted=False,
            reason="bench_minimal",
            response={},
        )
    return {"granted": False, "reason": "bench_minimal"}


# --- `make bench-canteen`'s reference (bench/README.md) ------------------------------------------


class BenchCanteenOut(Schema):
    booked: int


@router.post(
    "/bench/canteen-minimal",
    response=BenchCanteenOut,
    auth=session_or_token,
    include_in_schema=False,
)
def canteen_minimal(request, payload: CanteenBookingIn):
    """The least work a month booking can do, behind the parent's session like the real one:
    the child and the service by their public ids, then the month's rows in one INSERT, in a
    transaction. No check at all (household, enrolment, calendar, deadline, capacity, key)."""
    now = timezone.now()
    with transaction.atomic():
        child = (
            Person.objects.filter(public_id=payload.child)
            .order_by()
            .values_list("pk", "household_id")
            .first()
        )
        service = (
            Service.objects.filter(public_id=payload.service).order_by().values_list("pk").first()
        )
        if child is None or service is None:
            raise NotFound("No such child or service.")
        Booking.objects.bulk_create(
            [
                Booking(
                    child_id=child[0],
                    household_id=child[1],
                    service_id=service[0],
                    day=day,
                    booked_by=request.auth,
                    booked_at=now,
                    changed_at=now,
                )
                for day in payload.days
            ]
        )
    return {"booked": len(payload.days)}
