"""The identity part of the public API: who am I, my household, the territory."""

from datetime import date, datetime
from typing import Literal

from ninja import Field, Router, Schema, Status

from . import queries, vocabulary
from .actions import household as household_actions
from .api_auth import session_or_token
from .api_types import Day, ErrorOut
from .errors import DomainError, NotFound
from .models import AuditEntry, Commune, Household
from .permissions import capabilities, person_of
from .ratelimit import rate_limited

router = Router(tags=["identity"])


class CommuneOut(Schema):
    insee_code: str
    name: str
    postcode: str
    is_member: bool


class MeOut(Schema):
    email: str
    person_id: str | None
    first_name: str | None
    household_id: str | None
    staff_capabilities: list[str]


class MemberOut(Schema):
    id: str
    role: str
    first_name: str
    last_name: str
    birth_date: date


class AddressOut(Schema):
    line1: str
    line2: str
    postcode: str
    commune: CommuneOut
    valid_from: date
    valid_until: date | None


class QuotientOut(Schema):
    amount: int
    valid_from: date
    valid_until: date
    source: str


class HouseholdOut(Schema):
    id: str
    is_resident: bool
    members: list[MemberOut]
    address: AddressOut | None
    address_history: list[AddressOut]
    quotient: QuotientOut | None


class MemberIn(Schema):
    role: Literal["child", "adult"]
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    birth_date: Day


class AddressIn(Schema):
    line1: str = Field(min_length=1, max_length=200)
    line2: str = Field("", max_length=200)
    postcode: str = Field(pattern=r"^\d{5}$")
    commune_insee: str = Field(pattern=r"^[0-9AB]{5}$")
    moved_in: Day


class QuotientIn(Schema):
    amount: int = Field(ge=0, le=household_actions.MAX_FAMILY_QUOTIENT)
    valid_from: Day
    valid_until: Day


class ChangeOut(Schema):
    field: str
    before: str
    after: str


class AccessOut(Schema):
    at: datetime
    staff: str
    action: str = Field(description="The action's code")
    action_label: str = Field(description="The action in words, in the request's language")
    reason: str
    channel: str
    changes: list[ChangeOut] = Field(description="What a correction changed, in words")


def _commune_out(commune: Commune) -> CommuneOut:
    return CommuneOut(
        insee_code=commune.insee_code,
        name=commune.name,
        postcode=commune.postcode,
        is_member=commune.is_member,
    )


def _address_out(address) -> AddressOut:
    return AddressOut(
        line1=address.line1,
        line2=address.line2,
        postcode=address.postcode,
        commune=_commune_out(address.commune),
        valid_from=address.valid_from,
        valid_until=address.valid_until,
    )


def _own_household(request) -> Household:
    person = person_of(request.auth)
    if person is None:
        raise NotFound("This account has no household yet.")
    return person.household


def _household_out(household: Household) -> HouseholdOut:
    overview = queries.household_overview(household)
    quotient = overview.quotient
    return HouseholdOut(
        id=household.public_id,
        is_resident=overview.is_resident,
        members=[
            MemberOut(
                id=m.public_id,
                role=m.role,
                first_name=m.first_name,
                last_name=m.last_name,
                birth_date=m.birth_date,
            )
            for m in overview.members
        ],
        address=_address_out(overview.address) if overview.address else None,
        address_history=[_address_out(a) for a in overview.address_history],
        quotient=QuotientOut(
            amount=quotient.amount,
            valid_from=quotient.valid_from,
            valid_until=quotient.valid_until,
            source=quotient.source,
        )
        if quotient
        else None,
    )


@router.get("/territory/communes", response=list[CommuneOut], auth=None)
@rate_limited("identity.communes", per_address="120/m")
def list_communes(request):
    return [_commune_out(c) for c in queries.communes_for_selection()]


@router.get("/me", response=MeOut, auth=session_or_token)
def me(request):
    user = request.auth
    person = person_of(user)
    return MeOut(
        email=user.email,
        person_id=person.public_id if person else None,
        first_name=person.first_name if person else None,
        household_id=person.household.public_id if person else None,
        staff_capabilities=sorted(capabilities(user)),
    )


@router.get("/household", response={200: HouseholdOut, 404: ErrorOut}, auth=session_or_token)
def get_household(request):
    return _household_out(_own_household(request))


@router.post(
    "/household/members",
    response={201: MemberOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
)
def add_member(request, payload: MemberIn):
    person = household_actions.add_household_member(
        actor=request.auth,
        household=_own_household(request),
        role=payload.role,
        first_name=payload.first_name,
        last_name=payload.last_name,
        birth_date=payload.birth_date,
        channel=AuditEntry.Channel.API,
    )
    return Status(
        201,
        MemberOut(
            id=person.public_id,
            role=person.role,
            first_name=person.first_name,
            last_name=person.last_name,
            birth_date=person.birth_date,
        ),
    )


@router.post(
    "/household/address",
    response={201: AddressOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    auth=session_or_token,
)
def change_address(request, payload: AddressIn):
    commune = Commune.objects.filter(insee_code=payload.commune_insee).first()
    if commune is None:
        raise DomainError("Unknown commune.", field="commune_insee")
    address = household_actions.change_address(
        actor=request.auth,
        household=_own_household(request),
        address=household_actions.AddressInput(
            line1=payload.line1, line2=payload.line2, postcode=payload.postcode, commune=commune
        ),
        moved_in=payload.moved_in,
        channel=AuditEntry.Channel.API,
    )
    return Status(201, _address_out(address))


@router.post(
    "/household/quotients",
    response={201: QuotientOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    auth=session_or_token,
)
def declare_quotient(request, payload: QuotientIn):
    quotient = household_actions.declare_family_quotient(
        actor=request.auth,
        household=_own_household(request),
        amount=payload.amount,
        valid_from=payload.valid_from,
        valid_until=payload.valid_until,
        channel=AuditEntry.Channel.API,
    )
    return Status(
        201,
        QuotientOut(
            amount=quotient.amount,
            valid_from=quotient.valid_from,
            valid_until=quotient.valid_until,
            source=quotient.source,
        ),
    )


@router.get("/household/file-accesses", response=list[AccessOut], auth=session_or_token)
def file_accesses(request):
    entries = queries.staff_accesses_to_household(_own_household(request))[:200]
    rows = [vocabulary.access_row(entry) for entry in entries]
    return [
        AccessOut(
            at=row.entry.at,
            staff=row.staff,
            action=row.entry.action,
            action_label=row.what,
            reason=row.why,
            channel=row.entry.channel,
            changes=[ChangeOut(field=c.field, before=c.before, after=c.after) for c in row.changes],
        )
        for row in rows
    ]
