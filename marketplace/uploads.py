"""Checks for uploaded files, shared by shop documents, banners and product images:
type by content (not by name), size, pixel count (decompression bombs)."""

import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404
from django.utils.functional import cached_property
from django.utils.translation import gettext
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
        raise InvalidUpload(
            reason=gettext("The image is too large (%(size)s KB); the limit is %(limit)s KB.")
            % {"size": file.size // 1024, "limit": max_bytes // 1024},
            limit="size",
        )
    file.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise InvalidUpload(
                        reason=gettext(
                            "The image has too many pixels (%(width)s×%(height)s); the limit is %(limit)s megapixels."
                        )
                        % {"width": width, "height": height, "limit": max_pixels // 1_000_000},
                        limit="pixels",
                    )
                image_format = image.format
                image.verify()
    except InvalidUpload:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidUpload(
            reason=gettext("The image has too many pixels; the limit is %(limit)s megapixels.")
            % {"limit": max_pixels // 1_000_000},
            limit="pixels",
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidUpload(reason=gettext("The file is not an image we can read (JPEG, PNG, WebP or GIF).")) from None
    finally:
        file.seek(0)
    if image_format not in IMAGE_FORMATS:
        raise InvalidUpload(reason=gettext("Only JPEG, PNG, WebP or GIF images are accepted."))
    return ImageInfo(image_format, IMAGE_FORMATS[image_format], width, height)


def validate_document(file: UploadedFile, *, max_bytes: int | None = None) -> str:
    """A shop's licence or ID scan: an image (checked as above) or a PDF. Returns the content type."""
    max_bytes = max_bytes or settings.DOCUMENT_MAX_BYTES
    if file.size is not None and file.size > max_bytes:
        raise InvalidUpload(
            reason=gettext("The document is too large; the limit is %(limit)s MB.")
            % {"limit": max_bytes // (1024 * 1024)},
            limit="size",
        )
    file.seek(0)
    head = file.read(5)
    file.seek(0)
    if head == b"%PDF-":
        return "application/pdf"
    try:
        return validate_image(file).content_type
    except InvalidUpload as exc:
        if exc.params.get("limit"):  # too large or too many pixels: say so, in any language
            raise
        raise InvalidUpload(reason=gettext("Documents must be a PDF or an image (JPEG, PNG, WebP).")) from None


class PrivateStorage(FileSystemStorage):
    """Files only access-checked views hand out (shop documents, return photos), kept under
    settings.PRIVATE_MEDIA_ROOT, never under MEDIA_ROOT, which may be served publicly. The
    location follows the setting (like FileSystemStorage follows MEDIA_ROOT), so a test or a
    deployment that changes it moves the storage too."""

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    def _clear_cached_properties(self, setting, **kwargs):
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "PRIVATE_MEDIA_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)


def private_file_response(file, *, filename: str, content_type: str | None = None) -> FileResponse:
    """A file of the private storage, for a view that has checked who asks: 404 when the file is
    gone; never sniffed into something else, and nothing in it may run or load."""
    if not file or not file.storage.exists(file.name):
        raise Http404
    response = FileResponse(file.open("rb"), content_type=content_type, filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return response
