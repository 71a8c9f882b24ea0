"""The kiosk agents' API: heartbeats and the events they see besides taps. Devices
authenticate with their reader token, like for taps."""

from datetime import datetime

from ninja import Field, Router, Schema, Status

from card.api import ErrorOut, reader_auth
from identity.api_types import AwareInstant
from identity.errors import DomainError

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
    # Bounded by the column (a 32-bit integer): a larger number is a 422, not a database error.
    queue_length: int = Field(
        0, ge=0, le=2_147_483_647, description="Offline taps waiting for upload"
    )
    snapshot_version: str = Field("", max_length=64)


class HeartbeatOut(Schema):
    reader: str = Field(description="This reader's public id")
    kind: str
    access_point: str
    server_time: datetime


class EventIn(Schema):
    event: str = Field(description="card_removed or foreign_card")
    at: AwareInstant = Field(description="The reader's clock, with its offset")


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


class PrintJobOut(Schema):
    id: str
    document: str = Field(description="The receipt's reference")
    pdf_base64: str = Field(description="The receipt, a PDF, base64-encoded")


class PrintJobsOut(Schema):
    jobs: list[PrintJobOut]


class PrintDoneIn(Schema):
    ok: bool
    error: str = Field("", max_length=1000, description="The printer's complaint, when not ok")


@router.get("/kiosk/print-jobs", response={200: PrintJobsOut}, auth=reader_auth)
def print_jobs(request):
    """The receipts waiting to be printed on this kiosk's printer (a few at a time). A job
    stays pending until the agent reports it with `POST /kiosk/print-jobs/{id}/done`."""
    import base64

    from payments.pdf import document_pdf

    jobs = actions.take_print_jobs(reader=request.auth)
    return {
        "jobs": [
            {
                "id": job.public_id,
                "document": job.document.reference,
                "pdf_base64": base64.b64encode(document_pdf(job.document)).decode(),
            }
            for job in jobs
        ]
    }


@router.post(
    "/kiosk/print-jobs/{job_id}/done",
    response={200: EventOut, 404: ErrorOut},
    auth=reader_auth,
)
def print_job_done(request, job_id: str, payload: PrintDoneIn):
    """The agent printed the job (`ok`), or the printer refused it (`error`: paper out…)."""
    try:
        actions.finish_print_job(
            reader=request.auth, job_id=job_id, ok=payload.ok, error=payload.error
        )
    except DomainError as error:
        return Status(404, {"code": error.code, "message": error.message})
    return {"ok": True}
