"""How a file leaves the safe over HTTP: always an attachment, never sniffed, never cached."""

import io

from django.http import FileResponse

from .actions.files import DecryptedFile


def file_response(decrypted: DecryptedFile) -> FileResponse:
    response = FileResponse(
        io.BytesIO(decrypted.content),
        as_attachment=True,
        filename=decrypted.filename,
        content_type=decrypted.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
