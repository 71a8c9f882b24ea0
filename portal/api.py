"""The one NinjaAPI of Sésame, under /api/v1/. Each app contributes its router."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError

from card.api import router as card_router
from card.library_api import router as library_router
from documents_vault.api import router as vault_router
from identity.api import router as identity_router
from identity.errors import DomainError
from kiosk.api import router as kiosk_router
from payments.api import router as payments_router
from services.appointments.ants_editor import router as ants_router
from services.appointments.api import router as appointments_router
from services.canteen.api import router as canteen_router
from services.procedures.api import router as procedures_router
from services.schools.api import router as schools_router

api = NinjaAPI(
    title="Sésame API",
    version="1",
    urls_namespace="api",
    description="Public API of Sésame: residents (session), staff apps and devices (token).",
)


@api.exception_handler(DomainError)
def domain_error(request, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


# ninja's own refusals (a body that is not JSON, a missing credential) in the one error shape of
# the API, `{"code", "message", "field"}`, as each operation's documentation declares it.
HTTP_ERROR_CODES = {400: "invalid_body", 401: "unauthenticated", 405: "method_not_allowed"}


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    code = HTTP_ERROR_CODES.get(exc.status_code, "refused")
    if isinstance(exc, AuthenticationError):
        code = "unauthenticated"
    return api.create_response(
        request, {"code": code, "message": exc.message, "field": None}, status=exc.status_code
    )


@api.exception_handler(PermissionDenied)
def permission_denied(request, exc):
    return api.create_response(
        request, {"code": "forbidden", "message": "Not allowed."}, status=403
    )


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"code": "not_found", "message": "Not found."}, status=404)


api.add_router("/", identity_router)
api.add_router("/", card_router)
api.add_router("/", library_router)  # the library ILS export
api.add_router("/", payments_router)  # wallets, top-ups, orders and receipts
api.add_router("/", kiosk_router)  # the kiosk agents' heartbeats and events
api.add_router("/", vault_router)  # the residents' documents
api.add_router("/", appointments_router)  # desks, slots, appointments
api.add_router("/", ants_router)  # the State's passport appointment network calls these
api.add_router("/", procedures_router)  # online procedures, residents' and staff's
api.add_router("/", schools_router)  # the public catchment lookup
api.add_router("/", canteen_router)  # parents book canteen and care days

if settings.SESAME_BENCH_ENDPOINTS:
    # `make bench-taps`' reference endpoints (bench/README.md); off unless that env var is set.
    from .bench_api import router as bench_router

    api.add_router("/", bench_router)
