"""Product images: real pictures get an upright thumbnail; anything else is refused with a
message a person understands, and nothing is stored."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog.models import ProductImage
from catalog.services import product_image_add, product_image_delete
from catalog.tests.factories import ProductFactory
from marketplace.errors import InvalidUpload

pytestmark = pytest.mark.django_db


def png_upload(width: int = 1200, height: int = 800, name: str = "tea.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "green").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@pytest.fixture
def product(shop_a):
    return ProductFactory(vendor=shop_a)


def test_a_real_png_is_stored_with_a_small_thumbnail_that_becomes_the_cover(product, owner_a, settings):
    image = product_image_add(product=product, actor=owner_a, file=png_upload(), alt="Leaves")

    assert (image.alt, image.position) == ("Leaves", 0)
    thumbnail_path = Path(settings.MEDIA_ROOT) / image.thumbnail.name
    assert thumbnail_path.exists()
    with Image.open(thumbnail_path) as thumbnail:
        assert thumbnail.format == "WEBP"
        assert thumbnail.size == (400, 267)  # fits 400x400, keeps the 3:2 shape
    with Image.open(Path(settings.MEDIA_ROOT) / image.image.name) as original:
        assert original.size == (1200, 800)
    product.refresh_from_db()
    assert product.cover_thumbnail == f"/media/{image.thumbnail.name}"

    second = product_image_add(product=product, actor=owner_a, file=png_upload(300, 300))
    product.refresh_from_db()
    assert second.position == 1
    assert product.cover_thumbnail == f"/media/{image.thumbnail.name}"  # the first image stays the cover


def test_a_phone_photo_is_turned_upright_and_loses_its_exif(product, owner_a, settings):
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    exif[0x010F] = "PhoneMaker"
    Image.new("RGB", (200, 100), "blue").save(buffer, "JPEG", exif=exif)
    image = product_image_add(product=product, actor=owner_a, file=SimpleUploadedFile("photo.jpg", buffer.getvalue()))

    with Image.open(Path(settings.MEDIA_ROOT) / image.image.name) as original:
        assert original.size == (100, 200)
        assert 0x0112 not in original.getexif() and 0x010F not in original.getexif()
    with Image.open(Path(settings.MEDIA_ROOT) / image.thumbnail.name) as thumbnail:
        assert thumbnail.size == (100, 200)


def test_a_text_file_named_like_a_jpeg_is_refused_and_nothing_is_stored(product, owner_a, settings):
    with pytest.raises(InvalidUpload, match="not an image we can read"):
        product_image_add(
            product=product, actor=owner_a, file=SimpleUploadedFile("evil.jpg", b"<?php system($_GET['c']); ?>")
        )
    assert not ProductImage.objects.exists()
    assert _stored_files(settings) == []


@pytest.mark.slow
def test_a_sixty_megapixel_png_is_refused_as_too_many_pixels(product, owner_a, settings):
    with pytest.raises(InvalidUpload, match="too many pixels"):
        product_image_add(product=product, actor=owner_a, file=png_upload(7746, 7746, "huge.png"))
    assert not ProductImage.objects.exists()
    assert _stored_files(settings) == []
    product.refresh_from_db()
    assert product.cover_thumbnail == ""


def test_a_file_over_the_size_limit_is_refused(product, owner_a, settings):
    oversized = SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * settings.IMAGE_MAX_BYTES)
    with pytest.raises(InvalidUpload, match="too large"):
        product_image_add(product=product, actor=owner_a, file=oversized)
    assert not ProductImage.objects.exists()
    assert _stored_files(settings) == []


def test_deleting_an_image_removes_its_files_after_commit_and_moves_the_cover(
    product, owner_a, settings, django_capture_on_commit_callbacks
):
    first = product_image_add(product=product, actor=owner_a, file=png_upload())
    second = product_image_add(product=product, actor=owner_a, file=png_upload(50, 50))
    first_files = [Path(settings.MEDIA_ROOT) / first.image.name, Path(settings.MEDIA_ROOT) / first.thumbnail.name]

    with django_capture_on_commit_callbacks(execute=True):
        product_image_delete(image=first, actor=owner_a)

    assert not any(path.exists() for path in first_files)
    product.refresh_from_db()
    assert product.cover_thumbnail == f"/media/{second.thumbnail.name}"
    assert list(product.images.all()) == [second]
