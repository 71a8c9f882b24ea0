"""The public catchment lookup: the school of an address for a school year, or why there is
none (not in the map, two schools — a data error of the map —, an unknown street, an address
outside the territory). Public and rate-limited per client address."""

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from identity.errors import DomainError
from identity.models import Commune
from identity.ratelimit import rate_limited

from . import queries
from .levels import next_school_year, school_year_label

router = Router(tags=["schools"])
CATCHMENT_RATE = "60/m"


class InvalidQuery(DomainError):
    status = 422


class CatchmentQuery(Schema):
    street: str
    number: int
    commune: str  # INSEE code
    school_year: int | None = None  # the year it starts in; the coming one by default


class SchoolOut(Schema):
    id: str
    name: str
    address: str


class CatchmentOut(Schema):
    status: str
    message: str
    school_year: str
    school: SchoolOut | None = None


class CatchmentRefusalOut(Schema):
    """A refusal naming its field, or django-ninja's own list of query errors (`detail`)."""

    code: str = "invalid"
    message: str = ""
    field: str | None = None
    detail: list[dict] | None = None


@router.get(
    "/schools/catchment",
    response={200: CatchmentOut, 422: CatchmentRefusalOut},
    auth=None,
)
@rate_limited("schools.catchment", per_address=CATCHMENT_RATE)
def catchment(request, params: Query[CatchmentQuery]):
    if not 0 < params.number < 100000:
        raise InvalidQuery(_("Enter a house number."), field="number")
    if not params.street.strip():
        raise InvalidQuery(_("Enter a street."), field="street")
    start = params.school_year or next_school_year(timezone.localdate())
    commune = Commune.objects.filter(insee_code=params.commune.strip()).first()
    found = queries.catchment_for_address(
        commune=commune, street_name=params.street, number=params.number, school_year=start
    )
    school = found.school
    return CatchmentOut(
        status=found.status,
        message=queries.status_label(found),
        school_year=school_year_label(start),
        school=(
            SchoolOut(id=school.public_id, name=school.name, address=school.address)
            if school
            else None
        ),
    )
