"""What an accepted file produces beyond its outcome PDF and its type's own change
(`on_accept`): a booking, made through the service registry's booker the type names
(services.procedures.types.BookingOutput), so that the engine knows no service. Called inside
the acceptance's transaction: a refused booking refuses the acceptance, nothing half-done."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from identity.errors import Conflict, DomainError, NotFound
from identity.models import User
from services.catalog import registry

from ..errors import FieldErrors
from ..models import ProcedureFile
from ..types import BookingOutput
from .common import type_of


def _booker(output: BookingOutput) -> registry.Booker:
    found = registry.booker(output.booker)
    if found is None:
        raise DomainError(
            _("The service that books “%(what)s” is not available.") % {"what": output.label},
            field="slot",
            code="no_booker",
        )
    return found


def booking_openings(file: ProcedureFile) -> tuple[BookingOutput | None, list[registry.Opening]]:
    """What accepting this file books, and the times the clerk may choose from (none: the
    acceptance is refused until the service opens some)."""
    output = type_of(file).books(file.data)
    if output is None:
        return None, []
    booker = registry.booker(output.booker)
    if booker is None:
        return output, []
    first = timezone.localdate() + timedelta(days=1)
    return output, booker.openings(file.applicant, first, first + timedelta(days=output.days))


def produce_booking(
    *, actor: User, file: ProcedureFile, opening: str
) -> tuple[BookingOutput, registry.Booked] | None:
    """The booking accepting `file` produces, made now at the chosen `opening` (None when its
    type and answers produce none). Refusals name the field "slot"; a time taken meanwhile is
    a Conflict `slot_taken`."""
    output = type_of(file).books(file.data)
    if output is None:
        return None
    booker = _booker(output)
    if not opening:
        raise FieldErrors({"slot": _("Choose the time of “%(what)s”.") % {"what": output.label}})
    try:
        booked = booker.book(
            actor=actor, person=file.applicant, opening=opening, reference=file.public_id
        )
    except (Conflict, NotFound) as refused:
        raise Conflict(refused.message, field="slot", code=refused.code) from refused
    except FieldErrors:
        raise
    except DomainError as refused:
        if refused.status == 403:
            raise
        raise FieldErrors({"slot": refused.message}) from refused
    return output, booked
