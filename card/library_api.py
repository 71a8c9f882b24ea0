"""The library's own system (ILS) reads who may borrow: GET /api/v1/library/members.

A staff application token (`ses_…`) of someone who scans cards at a library; the borrower
number is the card number. Personal data leaves Sésame here: every export is audited."""

from datetime import date
from typing import Literal

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from identity.actions.audit import record_audit_entry
from identity.api_auth import ApiTokenAuth
from identity.api_types import Day, ErrorOut
from identity.errors import Forbidden
from identity.models import AuditEntry
from identity.spreadsheets import csv_response

from . import queries

router = Router(tags=["library"])

CSV_COLUMNS = (
    "borrower_number",
    "first_name",
    "last_name",
    "birth_year",
    "membership_valid_until",
    "card_expires_on",
)


class MembersQuery(Schema):
    on: Day | None = Field(None, description="The day members are valid on (default: today)")
    format: Literal["json", "csv"] = Field(
        "json", description="csv: the whole list as one semicolon-separated UTF-8 file"
    )
    after: str = Field(
        "",
        max_length=16,
        pattern=r"^\d*$",
        description="JSON only: the `next_after` of the previous page",
    )
    limit: int = Field(1000, ge=1, le=queries.MAX_PAGE, description="JSON only: page size")


class LibraryMemberOut(Schema):
    borrower_number: str = Field(description="The card number")
    first_name: str
    last_name: str
    birth_year: int
    membership_valid_until: date
    card_expires_on: date | None = Field(description="None for a phone pass")


class MembersPageOut(Schema):
    on: date
    members: list[LibraryMemberOut]
    next_after: str | None = Field(
        description="Pass as `after` for the next page; null on the last page"
    )


def _members_csv(members: list[queries.LibraryMember], on: date) -> HttpResponse:
    return csv_response(
        filename=f"library-members-{on}.csv",
        header=CSV_COLUMNS,
        rows=(
            [
                member.borrower_number,
                member.first_name,
                member.last_name,
                member.birth_year,
                member.membership_valid_until.isoformat(),
                member.card_expires_on.isoformat() if member.card_expires_on else "",
            ]
            for member in members
        ),
        for_excel=False,  # the library's system imports it
    )


@router.get(
    "/library/members",
    response={200: MembersPageOut, 403: ErrorOut},
    auth=ApiTokenAuth(),
    summary="Library members valid on a day",
    # `format=csv`: the same members as one semicolon-separated file, header row first.
    openapi_extra={"responses": {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}},
)
def library_members(request, response: HttpResponse, query: Query[MembersQuery]):
    """Every active card (NFC card or phone pass, one row each) whose holder holds a library
    membership valid on `on`, ordered by card number. JSON pages by `after`/`limit`;
    `format=csv` returns them all as `text/csv`. Each request is one audit entry."""
    user = request.auth
    if not queries.can_export_library_members(user):
        raise Forbidden(_("Only library staff can export library members."))
    on = query.on or timezone.localdate()
    if query.format == "csv":
        members = queries.library_members(on=on)
        next_after = None
    else:
        members = queries.library_members(on=on, after=query.after, limit=query.limit + 1)
        next_after = None
        if len(members) > query.limit:
            members = members[: query.limit]
            next_after = members[-1].borrower_number
    record_audit_entry(
        actor=user,
        action="library.members_exported",
        target=f"{len(members)} members on {on} ({query.format})",
        channel=AuditEntry.Channel.API,
    )
    if query.format == "csv":
        answer = _members_csv(members, on)
        answer["Cache-Control"] = "no-store"
        return answer
    response["Cache-Control"] = "no-store"
    return {"on": on, "members": members, "next_after": next_after}
