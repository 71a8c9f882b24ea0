"""The kiosk agents' API: heartbeats and the events they see besides taps. Devices
authenticate with their reader token, like for taps."""

from datetime import datetime

from ninja import Field, Router, Schema
from pydantic import AwareDatetime

from card.api import ErrorOut, reader_auth

from . import actions

router = Router(tags=["kiosks"])


class HeartbeatIn(Schema):
    agent_version: str = Field("", max_length=32)
    mode: str = Field("", max_length=10, description="gate, desk or kiosk")
    reader_connected: bool
    printer_status: str = Field(
        "", max_length=12, description='"" (none), ok, paper_low, paper_out, error, unknown'
    )
    last_error: str = Field("", max_length=1000, description="Kept to 300 characters")
    queue_length: int = Field(0, ge=0, description="Offline taps waiting for upload")
    snapshot_version: str = Field("", max_length=64)


class HeartbeatOut(Schema):
    reader: str = Field(description="This reader's public id")
    kind: str
    access_point: str
    server_time: datetime


class EventIn(Schema):
    event: str = Field(description="card_removed or foreign_card")
    at: AwareDatetime = Field(description="The reader's clock, with its offset")


class EventOut(Schema):
    ok: bool


@router.post("/kiosk/heartbeat", response={200: HeartbeatOut, 400: ErrorOut}, auth=reader_auth)
def heartbeat(request, payload: HeartbeatIn):
    """The agent's state (reader connected, printer, last error, version), every 30 s or so.
    Staff see it on the devices page; no heartbeat for 2 minutes shows the device as stale."""
    reader = request.auth
    status = actions.record_heartbeat(reader=reader, **payload.dict())
    return {
        "reader": reader.public_id,
        "kind": reader.kind,
        "access_point": reader.access_point.public_id,
        "server_time": status.reported_at,
    }


@router.post("/kiosk/events", response={200: EventOut, 400: ErrorOut}, auth=reader_auth)
def event(request, payload: EventIn):
    """A card left the reader, or a card without a Sésame message was presented (a transport
    or bank card): the kiosk screen reacts."""
    actions.record_reader_event(reader=request.auth, kind=payload.event, reader_time=payload.at)
    return {"ok": True}
