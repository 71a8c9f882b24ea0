"""Images people upload (a card's identity photo; later, a scan for the document safe).

An image file is small on disk and huge in memory: a 48 KB PNG can declare 20000 × 20000
pixels, 400 million of them to decode. So an upload is judged from its header (Pillow's
`Image.open` reads only that) before a single pixel is decoded, and what is kept is a new
JPEG at a bounded size, without the metadata of the original (EXIF: GPS position, device,
date), turned upright first. Nothing downstream (a PDF, a page) ever decodes the original."""

import io
import warnings
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import DomainError

# Larger than any phone camera's photo; 36 million pixels decode in well under a second.
MAX_SIDE_PIXELS = 6000
# What is kept: plenty for a card face printed at 300 dpi (35 × 45 mm is 413 × 531 pixels).
KEPT_LONGEST_SIDE = 1200
KEPT_JPEG_QUALITY = 85
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG"})


@dataclass(frozen=True)
class ImageRules:
    """What one kind of upload accepts."""

    max_bytes: int
    max_side: int = MAX_SIDE_PIXELS
    kept_longest_side: int = KEPT_LONGEST_SIDE


def checked_image(upload, *, field: str, rules: ImageRules) -> ContentFile:
    """The upload re-encoded as a JPEG of at most `rules.kept_longest_side` pixels, without
    metadata; or a DomainError naming `field`: too heavy, not an image, neither JPEG nor PNG,
    or more pixels than `rules.max_side` in either direction (refused before decoding)."""
    if upload.size > rules.max_bytes:
        raise DomainError(
            _("The image is larger than %(megabytes)d MB.")
            % {"megabytes": rules.max_bytes // (1024 * 1024)},
            field=field,
        )
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            # Pillow warns, then refuses, past its own pixel limit; ours is far lower.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                _check_header(image, field=field, rules=rules)
                kept = _reencoded(image, longest_side=rules.kept_longest_side)
    except Image.DecompressionBombError as error:
        raise _too_many_pixels(field, rules) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        # Not an image, or one whose pixels are truncated or corrupt.
        raise DomainError(_("This file is not an image."), field=field) from error
    finally:
        upload.seek(0)
    return ContentFile(kept, name="image.jpg")


def is_within_bounds(file, *, max_side: int = MAX_SIDE_PIXELS) -> bool:
    """Whether a stored image can be decoded safely: an image whose header declares at most
    `max_side` pixels each way. Reads the header only, for images kept before they were
    bounded on upload."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                width, height = image.size
    except (Image.DecompressionBombError, UnidentifiedImageError, OSError, SyntaxError):
        return False
    finally:
        file.seek(0)
    return width <= max_side and height <= max_side


def _check_header(image: Image.Image, *, field: str, rules: ImageRules) -> None:
    if image.format not in ACCEPTED_FORMATS:
        raise DomainError(_("The image must be a JPEG or PNG file."), field=field)
    width, height = image.size
    if width > rules.max_side or height > rules.max_side:
        raise _too_many_pixels(field, rules, width=width, height=height)


def _too_many_pixels(field: str, rules: ImageRules, *, width=None, height=None) -> DomainError:
    limit = {"max": rules.max_side}
    if width is None:
        message = _("The image has too many pixels: at most %(max)d × %(max)d.") % limit
    else:
        message = _("The image is %(width)d × %(height)d pixels: at most %(max)d × %(max)d.") % {
            "width": width,
            "height": height,
            **limit,
        }
    return DomainError(message, field=field)


def _reencoded(image: Image.Image, *, longest_side: int) -> bytes:
    # A JPEG can be decoded straight at a fraction of its size (1/2 … 1/8): far less work.
    image.draft("RGB", (longest_side, longest_side))
    image = ImageOps.exif_transpose(image)  # upright, as the camera meant it
    image.thumbnail((longest_side, longest_side), Image.Resampling.LANCZOS)
    if image.mode in {"RGBA", "LA"} or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    out = io.BytesIO()
    # A new image carries no EXIF, ICC or comment unless given: the metadata stay behind.
    image.save(out, "JPEG", quality=KEPT_JPEG_QUALITY, optimize=True)
    return out.getvalue()
