"""Uploaded images: judged from their header before any pixel is decoded, kept as a bounded JPEG
without metadata, every refusal naming the field it came from."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from identity.errors import DomainError
from identity.images import ImageRules, checked_image, is_within_bounds
from tests.card.factories import blank_png_upload, photo_upload

RULES = ImageRules(max_bytes=5 * 1024 * 1024)


@pytest.fixture(autouse=True)
def _english():
    """The messages in their English source (the site defaults to French)."""
    with translation.override("en"):
        yield


def kept(content) -> Image.Image:
    image = Image.open(io.BytesIO(content.read()))
    image.load()
    return image


def test_a_declared_size_past_the_limit_is_refused_naming_the_field_and_its_size():
    with pytest.raises(DomainError) as refused:
        checked_image(blank_png_upload(6000, 6001), field="scan", rules=RULES)
    assert refused.value.field == "scan"
    assert refused.value.message == "The image is 6000 × 6001 pixels: at most 6000 × 6000."


def test_a_decompression_bomb_is_refused_like_any_image_too_large():
    with pytest.raises(DomainError) as refused:
        checked_image(blank_png_upload(20000, 20000), field="photo", rules=RULES)
    assert refused.value.field == "photo"
    assert "at most 6000 × 6000" in refused.value.message


def test_a_truncated_image_is_not_an_image():
    whole = photo_upload(size=(800, 600)).read()
    cut = SimpleUploadedFile("cut.jpg", whole[: len(whole) // 2], content_type="image/jpeg")
    with pytest.raises(DomainError) as refused:
        checked_image(cut, field="photo", rules=RULES)
    assert refused.value.message == "This file is not an image."


def test_a_transparent_png_is_kept_on_white():
    buffer = io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 0, 0, 0)).save(buffer, "PNG")
    upload = SimpleUploadedFile("logo.png", buffer.getvalue(), content_type="image/png")
    image = kept(checked_image(upload, field="photo", rules=RULES))
    assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (300, 200))
    assert image.getpixel((10, 10)) == pytest.approx((255, 255, 255), abs=2)


def test_a_small_image_keeps_its_size_and_a_large_one_its_proportions():
    assert kept(checked_image(photo_upload(size=(350, 450)), field="p", rules=RULES)).size == (
        350,
        450,
    )
    assert kept(checked_image(photo_upload(size=(6000, 3000)), field="p", rules=RULES)).size == (
        1200,
        600,
    )


def test_a_stored_image_is_judged_by_its_header():
    assert is_within_bounds(photo_upload(size=(6000, 10)))
    assert not is_within_bounds(blank_png_upload(12000, 12000))
    assert not is_within_bounds(io.BytesIO(b"not an image"))
