"""Checks for uploaded files, shared by shop documents, banners and product images:
type by content (not by name), size, pixel count (decompression bombs)."""

import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError

from marketplace.errors import InvalidUpload

IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


@dataclass(frozen=True)
class ImageInfo:
    format: str
    content_type: str
    width: int
    height: int


def validate_image(file: UploadedFile, *, max_bytes: int | None = None, max_pixels: int | None = None) -> ImageInfo:
    """Raises InvalidUpload with a message a person understands; leaves the file at position 0."""
    max_bytes = max_bytes or settings.IMAGE_MAX_BYTES
    max_pixels = max_pixels or settings.IMAGE_MAX_PIXELS
    if file.size is not None and file.size > max_bytes:
        raise InvalidUpload(reason=f"The image is too large ({file.size // 1024} KB); the limit is {max_bytes // 1024} KB.")
    file.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise InvalidUpload(
                        reason=f"The image has too many pixels ({width}×{height}); the limit is {max_pixels // 1_000_000} megapixels."
                    )
                image_format = image.format
                image.verify()
    except InvalidUpload:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidUpload(reason=f"The image has too many pixels; the limit is {max_pixels // 1_000_000} megapixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidUpload(reason="The file is not an image we can read (JPEG, PNG, WebP or GIF).") from None
    finally:
        file.seek(0)
    if image_format not in IMAGE_FORMATS:
        raise InvalidUpload(reason="Only JPEG, PNG, WebP or GIF images are accepted.")
    return ImageInfo(image_format, IMAGE_FORMATS[image_format], width, height)


def validate_document(file: UploadedFile, *, max_bytes: int | None = None) -> str:
    """A shop's licence or ID scan: an image (checked as above) or a PDF. Returns the content type."""
    max_bytes = max_bytes or settings.DOCUMENT_MAX_BYTES
    if file.size is not None and file.size > max_bytes:
        raise InvalidUpload(reason=f"The document is too large; the limit is {max_bytes // (1024 * 1024)} MB.")
    file.seek(0)
    head = file.read(5)
    file.seek(0)
    if head == b"%PDF-":
        return "application/pdf"
    try:
        return validate_image(file).content_type
    except InvalidUpload as exc:
        if "pixels" in str(exc) or "too large" in str(exc):
            raise
        raise InvalidUpload(reason="Documents must be a PDF or an image (JPEG, PNG, WebP).") from None
