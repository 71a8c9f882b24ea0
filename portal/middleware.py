import contextlib
import io
import ipaddress
import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import formats, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _


class LanguageMiddleware:
    """French unless the visitor chose English with the switch.

    Unlike Django's LocaleMiddleware this ignores the browser's Accept-Language: a town's
    portal speaks French first, and the switch on every page is the way to change it."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.available = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie",))
        return response


MEGABYTE = 1024 * 1024
JSON_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def refusal(request, *, status: int, code: str, message: str, field: str | None = None):
    """A refusal of the guards below: JSON `{"code", "message", "field"}` under /api/, else the
    French error page of that family (400.html for every 4xx but 404)."""
    if request.path.startswith("/api/"):
        body = {"code": code, "message": message, "field": field}
        return JsonResponse(body, status=status)
    template = "404.html" if status == 404 else "400.html"
    return render(request, template, {"message": message}, status=status)


def too_large(request, cap: int) -> HttpResponse:
    megabytes = cap / MEGABYTE
    size = formats.number_format(int(megabytes) if megabytes.is_integer() else round(megabytes, 2))
    message = _("The request is too large: %(size)s at most.") % {
        "size": _("%(megabytes)s MB") % {"megabytes": size}
    }
    return refusal(request, status=413, code="request_too_large", message=message)


class RequestSizeLimitMiddleware:
    """No request body larger than `SESAME_MAX_REQUEST_BYTES` is read: a 413 answers it at once,
    from its Content-Length, before anything (a form, an upload handler, the API's parser)
    spools it. A chunked body has no Content-Length (gunicorn marks its end with
    `wsgi.input_terminated`, and Django would otherwise read none of it): at most the cap and
    one byte more are read, then it is refused, or handed to Django with its length."""

    CHUNK = 64 * 1024

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        cap = settings.SESAME_MAX_REQUEST_BYTES
        declared = request.META.get("CONTENT_LENGTH")
        if declared:
            if declared.isdigit() and int(declared) > cap:
                return too_large(request, cap)
        elif self._is_chunked(request):
            body = self._read_at_most(request.environ["wsgi.input"], cap + 1)
            if len(body) > cap:
                return too_large(request, cap)
            # Django read the stream with a length of 0: give it the body and its length.
            request._stream = LimitedStream(io.BytesIO(body), len(body))
            request.META["CONTENT_LENGTH"] = str(len(body))
        return self.get_response(request)

    @staticmethod
    def _is_chunked(request) -> bool:
        environ = getattr(request, "environ", {})
        return (
            bool(environ.get("wsgi.input_terminated"))
            and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        )

    def _read_at_most(self, stream, limit: int) -> bytes:
        parts, size = [], 0
        while size < limit:
            part = stream.read(min(self.CHUNK, limit - size))
            if not part:
                break
            parts.append(part)
            size += len(part)
        return b"".join(parts)


class RejectNulCharactersMiddleware:
    """A NUL character never reaches a view: an address containing one names nothing (404),
    a query, form field or JSON value containing one is refused with a 400 naming the field
    (its path in the JSON document: `taps.1.credential`).

    No address, id or text of Sésame contains one; PostgreSQL refuses them in text, so one
    reaching a query would be a 500. Checking here once protects every page and endpoint.
    django-ninja parses a body as JSON whatever its content type says, so every API body is
    read as JSON here too. Uploaded files (binary) are left alone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path:
            message = _("Page not found.")
            return refusal(request, status=404, code="not_found", field="path", message=message)
        try:
            field = self._field_with_nul(request)
        except RequestDataTooBig:
            return too_large(request, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        except RecursionError:
            message = _("The JSON document is nested too deeply.")
            return refusal(request, status=400, code="invalid_json", message=message)
        if field is not None:
            message = _("The field “%(field)s” contains a forbidden character.") % {"field": field}
            return refusal(
                request, status=400, code="invalid_characters", field=field, message=message
            )
        return self.get_response(request)

    @classmethod
    def _field_with_nul(cls, request) -> str | None:
        fields = [request.GET]
        if request.method == "POST" and request.content_type in FORM_CONTENT_TYPES:
            fields.append(request.POST)
        for data in fields:
            for name, values in data.lists():
                if "\x00" in name or any("\x00" in value for value in values):
                    return name.replace("\x00", "")
        if cls._may_be_json(request):
            return cls._json_field_with_nul(request.body)
        return None

    @staticmethod
    def _may_be_json(request) -> bool:
        if request.method not in JSON_BODY_METHODS or request.content_type in FORM_CONTENT_TYPES:
            return False
        content_type = request.content_type or ""
        return (
            request.path.startswith("/api/")
            or content_type == "application/json"
            or content_type.endswith("+json")
        )

    @staticmethod
    def _json_field_with_nul(body: bytes) -> str | None:
        """The path of the first key or text holding a NUL ("" for the document itself), or None.
        A body that is not JSON is left to the endpoint, which answers it."""
        if not body:
            return None
        try:
            document = json.loads(body)
        except ValueError:
            return None
        pending: list[tuple[tuple[str, ...], object]] = [((), document)]
        while pending:  # iterative: a deeply nested document cannot exhaust the stack here
            path, value = pending.pop()
            if isinstance(value, str):
                if "\x00" in value:
                    return ".".join(path) or "body"
            elif isinstance(value, dict):
                for key, item in reversed(list(value.items())):
                    if "\x00" in key:
                        return ".".join((*path, key.replace("\x00", "")))
                    pending.append(((*path, key), item))
            elif isinstance(value, list):
                pending.extend(
                    ((*path, str(i)), item) for i, item in reversed(list(enumerate(value)))
                )
        return None


class TrustedProxyMiddleware:
    """The client's real address and scheme, from the reverse proxy in front of Sésame.

    Only a peer listed in `SESAME_TRUSTED_PROXIES` (nginx on the same server by default) is
    believed: its `X-Forwarded-For` gives `REMOTE_ADDR` (the right-most address that is not a
    trusted proxy itself, since a client can put anything on the left), its `X-Forwarded-Proto`
    tells whether the visitor came over HTTPS (`SECURE_PROXY_SSL_HEADER`). From any other peer
    both headers are dropped, so that nobody can claim another address (rate limits, audit) or
    HTTPS by sending them."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.trusted = [
            ipaddress.ip_network(entry, strict=False) for entry in settings.SESAME_TRUSTED_PROXIES
        ]

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def __call__(self, request):
        meta = request.META
        if self._is_trusted(meta.get("REMOTE_ADDR", "")):
            hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
            for hop in reversed([hop for hop in hops if hop]):
                if not self._is_trusted(hop):
                    with contextlib.suppress(ValueError):  # not an address: the proxy's own
                        meta["REMOTE_ADDR"] = str(ipaddress.ip_address(hop))
                    break
        else:
            meta.pop("HTTP_X_FORWARDED_FOR", None)
            meta.pop("HTTP_X_FORWARDED_PROTO", None)
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    """The Permissions-Policy header on every answer: what a page may ask of the browser
    (`PERMISSIONS_POLICY`: the camera for the card desk, passkeys, payment), nothing else."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}={allowed}" for feature, allowed in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.header)
        return response
