"""What the safe accepts, decided from the bytes, never from the name or the declared type.

An upload is, in this order: not empty and within the size limit; a PDF, a JPEG, a PNG or a
HEIC photo by its first bytes; named (if its name has an extension) like what it is; clean for
clamd when CLAMD_SOCKET is set; then opened for real. Images are decoded (their dimensions
checked first: a "PNG bomb" of huge dimensions is refused before any pixel is decoded),
turned upright, reduced to at most 4,000 pixels a side and re-encoded, which drops their
metadata (EXIF location, camera, dates); a HEIC photo becomes a JPEG. PDFs are parsed with
pypdf and refused when anything reachable from their root holds JavaScript, a launch action
or an embedded file. Each refusal is a FileRefused naming the field "file"; nothing is written
anywhere during the inspection (it works on bytes in memory)."""

import io
import unicodedata
import warnings
from dataclasses import dataclass

import pillow_heif
from django.conf import settings
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from identity.errors import DomainError

from . import antivirus

pillow_heif.register_heif_opener()

PDF, JPEG, PNG, HEIC = "application/pdf", "image/jpeg", "image/png", "image/heic"
# What is stored (a HEIC photo is stored as the JPEG it becomes).
STORED_EXTENSION = {PDF: "pdf", JPEG: "jpg", PNG: "png"}
# The extensions a name may carry for each type read from the bytes.
EXTENSIONS = {
    PDF: {"pdf"},
    JPEG: {"jpg", "jpeg", "jpe", "jfif"},
    PNG: {"png"},
    HEIC: {"heic", "heif", "hif"},
}
TYPE_LABELS = {PDF: "PDF", JPEG: "JPEG", PNG: "PNG", HEIC: "HEIC"}
HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}

MAX_PIXELS = 60_000_000  # a 48-megapixel phone photo passes; a decompression bomb does not
MAX_SIDE = 20_000
STORED_MAX_SIDE = 4_000  # plenty to read any document, a fraction of the bytes
JPEG_QUALITY = 88
MAX_PDF_OBJECTS = 200_000
MAX_NAME_LENGTH = 120


class FileRefused(DomainError):
    """An upload the safe does not take; the message says why and what to do."""

    code = "file_refused"

    def __init__(self, message: str, *, code: str, status: int = 400):
        super().__init__(message, field="file", code=code)
        self.status = status


@dataclass(frozen=True)
class CleanFile:
    content: bytes
    content_type: str
    name: str  # the display name, with the extension of what is stored


def max_upload_bytes() -> int:
    return settings.SESAME_VAULT_MAX_UPLOAD_BYTES


def too_large_message() -> str:
    megabytes = max_upload_bytes() / (1024 * 1024)
    return _("The file is larger than %(size)s MB: send a smaller scan or photo.") % {
        "size": f"{megabytes:g}"
    }


def refuse_too_large() -> FileRefused:
    return FileRefused(too_large_message(), code="too_large", status=413)


def refuse_unsafe_name() -> FileRefused:
    return FileRefused(
        _("The file name contains a path separator or a NUL character: rename the file."),
        code="unsafe_name",
    )


def sniff(data: bytes) -> str | None:
    """The type of a file from its first bytes, or None when the safe does not take it."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data[4:8] == b"ftyp" and data[8:12] in HEIC_BRANDS:
        return HEIC
    return None


def is_unsafe_name(name: str) -> bool:
    """A file name with a path separator or a NUL character: refused, never shortened."""
    return any(char in name for char in ("/", "\\", "\x00"))


def clean_name(name: str) -> tuple[str, str]:
    """(base name, lower-case extension or "") of a display name; an unsafe name is
    refused."""
    if is_unsafe_name(name):
        raise refuse_unsafe_name()
    name = unicodedata.normalize("NFC", name)
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C").strip()
    base, dot, extension = name.rpartition(".")
    if not dot:
        base, extension = name, ""
    base = " ".join(base.split()).strip(" .")[:MAX_NAME_LENGTH] or "document"
    return base, extension.lower()


def fingerprint(content: bytes) -> str:
    """A keyed hash of the content, to notice the same file uploaded twice into a household's
    safe without storing a plain hash anyone could compare a guessed file with."""
    return salted_hmac("documents_vault.fingerprint", content, algorithm="sha256").hexdigest()


def inspect(data: bytes, *, name: str) -> CleanFile:
    """The file as the safe stores it, or FileRefused."""
    if not data:
        raise FileRefused(_("The file is empty."), code="empty_file")
    if len(data) > max_upload_bytes():
        raise refuse_too_large()
    base, extension = clean_name(name)
    kind = sniff(data)
    if kind is None:
        raise FileRefused(
            _("This file is not a PDF, a JPEG, a PNG or a HEIC photo."),
            code="unsupported_type",
            status=415,
        )
    if extension and extension not in EXTENSIONS[kind]:
        raise FileRefused(
            _(
                "This file is a %(type)s but its name ends in .%(extension)s: "
                "rename it or export it again."
            )
            % {"type": TYPE_LABELS[kind], "extension": extension[:10]},
            code="type_mismatch",
            status=415,
        )
    _scan(data)
    if kind == PDF:
        _check_pdf(data)
        content, content_type = data, PDF
    else:
        content, content_type = _reencode_image(data, kind)
    return CleanFile(
        content=content,
        content_type=content_type,
        name=f"{base}.{STORED_EXTENSION[content_type]}",
    )


def _scan(data: bytes) -> None:
    if not antivirus.is_enabled():
        return
    try:
        signature = antivirus.scan(data)
    except antivirus.ScanUnavailable as error:
        raise FileRefused(
            _("The antivirus check is unavailable right now: try again in a few minutes."),
            code="scan_unavailable",
            status=503,
        ) from error
    if signature:
        raise FileRefused(
            _("The antivirus found a threat in this file (%(signature)s): it was not stored.")
            % {"signature": signature[:80]},
            code="virus_found",
        )


# --- Images --------------------------------------------------------------------------------

PILLOW_FORMATS = {JPEG: {"JPEG", "MPO"}, PNG: {"PNG"}, HEIC: {"HEIF"}}


def _refuse_damaged_image() -> FileRefused:
    return FileRefused(_("This image is damaged or incomplete."), code="damaged_file")


def _reencode_image(data: bytes, kind: str) -> tuple[bytes, str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in PILLOW_FORMATS[kind]:
                    raise _refuse_damaged_image()
                width, height = image.size
                if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
                    raise FileRefused(
                        _(
                            "The image is %(width)s × %(height)s pixels: too large to be a "
                            "photo or a scan."
                        )
                        % {"width": width, "height": height},
                        code="image_too_large",
                    )
                image.load()
                upright = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise FileRefused(
            _("The image's dimensions are too large to be a photo or a scan."),
            code="image_too_large",
        ) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise _refuse_damaged_image() from error
    if max(upright.size) > STORED_MAX_SIDE:
        upright.thumbnail((STORED_MAX_SIDE, STORED_MAX_SIDE))
    out = io.BytesIO()
    # Saved without `exif` nor text chunks: the stored image carries pixels, not metadata.
    if kind == PNG:
        upright.save(out, format="PNG")
        return out.getvalue(), PNG
    if upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    upright.save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue(), JPEG


# --- PDFs ----------------------------------------------------------------------------------

SCRIPT_KEYS = {"/JS", "/JavaScript"}
SCRIPT_ACTIONS = {"/JavaScript", "/Launch", "/RichMediaExecute", "/ImportData"}
EMBEDDED_KEYS = {"/EmbeddedFiles", "/EmbeddedFile", "/EF", "/RichMedia"}


def _check_pdf(data: bytes) -> None:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise FileRefused(
                _("This PDF is protected by a password: send a copy without one."),
                code="encrypted_pdf",
            )
        if len(reader.pages) == 0:
            raise FileRefused(_("This PDF has no page."), code="damaged_file")
        found = _active_content(reader)
    except FileRefused:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        raise FileRefused(_("This PDF is damaged or incomplete."), code="damaged_file") from error
    if found == "script":
        raise FileRefused(
            _(
                "This PDF contains JavaScript or an action that runs a program: it was refused. "
                "Print it to a new PDF or scan it."
            ),
            code="pdf_javascript",
        )
    if found == "embedded":
        raise FileRefused(
            _("This PDF contains embedded files: it was refused. Send each document on its own."),
            code="pdf_embedded_file",
        )


def _active_content(reader: PdfReader) -> str | None:
    """ "script" or "embedded" when an object reachable from the document's trailer holds one,
    else None. Names are compared decoded (pypdf resolves #xx escapes such as /J#61vaScript)."""
    stack: list = [reader.trailer]
    seen: set[tuple[int, int]] = set()
    visited = 0
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            reference = (node.idnum, node.generation)
            if reference in seen:
                continue
            seen.add(reference)
            node = node.get_object()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            raise FileRefused(_("This PDF is too complex to be checked."), code="damaged_file")
        if isinstance(node, DictionaryObject):
            for key, value in node.items():
                if key in SCRIPT_KEYS:
                    return "script"
                if key in EMBEDDED_KEYS:
                    return "embedded"
                if key == "/S" and value in SCRIPT_ACTIONS:
                    return "script"
                if key == "/Subtype" and value == "/FileAttachment":
                    return "embedded"
                if key != "/Parent":  # the page tree's back links lead nowhere new
                    stack.append(value)
        elif isinstance(node, ArrayObject):
            stack.extend(node)
    return None
