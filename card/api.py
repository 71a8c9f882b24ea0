"""The readers' API: taps. Devices authenticate with their bearer token."""

from datetime import datetime

from ninja import Field, Router, Schema
from ninja.security import HttpBearer
from pydantic import AwareDatetime

from . import actions

router = Router(tags=["cards"])


class ReaderAuth(HttpBearer):
    """`Authorization: Bearer rdr_<prefix>_<secret>`: a registered, unrevoked reader."""

    def authenticate(self, request, token: str):
        reader = actions.authenticate_reader(token)
        if reader is not None:
            request.reader = reader
        return reader


reader_auth = ReaderAuth()


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None


class TapIn(Schema):
    tap_id: str = Field(
        min_length=1, max_length=64, description="Client-generated, unique per reader"
    )
    credential: str = Field(
        min_length=1, max_length=1024, description="The card's SUN URL or a phone pass code"
    )
    reader_time: AwareDatetime = Field(description="The reader's clock, with its offset")


class HolderOut(Schema):
    first_name: str
    photo: str | None = Field(None, description="Card id for the photo (staff desks only)")


class EntitlementOut(Schema):
    entitlement: str
    label: str
    consumed: int
    remaining: int | None
    valid_until: str | None


class TapOut(Schema):
    tap_id: str
    granted: bool
    reason: str = Field(
        description="Stable code: granted, valid, exit, invalid_credential, "
        "expired_credential, unknown_card, replay, card_suspended, "
        "card_replaced, card_expired, card_revoked, card_not_active, "
        "no_entitlement"
    )
    at: datetime
    access_point: str
    holder: HolderOut | None
    entitlement: EntitlementOut | None
    flags: list[str]


@router.post("/taps", response={200: TapOut, 400: ErrorOut}, auth=reader_auth)
def tap(request, payload: TapIn):
    """Present a credential at this reader's access point. Granted and refused taps are both a
    200 with the decision; the same `tap_id` again returns the first answer."""
    return actions.process_tap(
        reader=request.auth,
        credential=payload.credential,
        client_tap_id=payload.tap_id,
        reader_time=payload.reader_time,
    )
