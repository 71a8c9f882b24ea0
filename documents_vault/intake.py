"""Receiving an upload for the safe over HTTP, before any view or middleware reads the body.

Django reads a multipart body the first time anything touches request.POST or request.FILES
(the NUL-character guard and the CSRF check do, before the view). For the safe's upload
addresses, this middleware first installs:

- a size limit applied while the body is received: past SESAME_VAULT_MAX_UPLOAD_BYTES the file
  is dropped (Django deletes the temporary file it had started) and the view answers with the
  limit, so an oversized file is never kept, not even in /tmp;
- a check of the file name as sent: Django silently reduces "../../x.pdf" to "x.pdf" and drops
  NUL characters; the safe refuses such a name with a message instead (`refusal`).

Other apps whose pages take an upload into the safe (the pick-or-upload form) register their
URL names with `register_upload_view` from their AppConfig.ready."""

import html

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http.multipartparser import MultiPartParser
from django.urls import Resolver404, resolve
from django.utils.datastructures import ImmutableList

from .inspection import FileRefused, is_unsafe_name, refuse_too_large, refuse_unsafe_name

_upload_views: set[str] = set()


def register_upload_view(view_name: str) -> None:
    """Apply the safe's intake to the page or endpoint of this URL name ("app:name")."""
    _upload_views.add(view_name)


class Intake:
    too_large = False
    unsafe_name = False


class SizeLimitHandler(FileUploadHandler):
    """Counts each file's bytes as they arrive and drops the file past the limit."""

    def __init__(self, intake: Intake, limit: int):
        super().__init__()
        self.intake = intake
        self.limit = limit
        self.received = 0

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.intake.too_large = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None


class NameCheckingParser(MultiPartParser):
    intake: Intake

    def sanitize_file_name(self, file_name):
        raw = html.unescape(file_name)
        if is_unsafe_name(raw):
            self.intake.unsafe_name = True
        return super().sanitize_file_name(file_name)


def prepare(request) -> Intake:
    intake = Intake()
    request.vault_intake = intake
    request.upload_handlers.insert(
        0, SizeLimitHandler(intake, settings.SESAME_VAULT_MAX_UPLOAD_BYTES)
    )

    def parse_file_upload(meta, post_data):
        request.upload_handlers = ImmutableList(
            request.upload_handlers,
            warning="You cannot alter upload handlers after the upload has been processed.",
        )
        parser = NameCheckingParser(meta, post_data, request.upload_handlers, request.encoding)
        parser.intake = intake
        return parser.parse()

    request.parse_file_upload = parse_file_upload
    return intake


def refusal(request) -> FileRefused | None:
    """What the intake refused in this request's files, if anything (the view raises it)."""
    intake = getattr(request, "vault_intake", None)
    if intake is None:
        return None
    if intake.unsafe_name:
        return refuse_unsafe_name()
    if intake.too_large:
        return refuse_too_large()
    return None


class VaultUploadMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.content_type == "multipart/form-data":
            try:
                view_name = resolve(request.path_info).view_name
            except Resolver404:
                view_name = ""
            if view_name in _upload_views:
                prepare(request)
        return self.get_response(request)
