"""Pillow work on product images: an upright copy without metadata and a small thumbnail,
made once on upload so that listings never resize anything at request time."""

import io
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps

from marketplace.uploads import ImageInfo

THUMBNAIL_SIZE = (400, 400)
THUMBNAIL_FORMAT = ("WEBP", "webp")
ORIGINAL_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}


@dataclass(frozen=True)
class PreparedImage:
    original: ContentFile
    thumbnail: ContentFile


def product_image_prepare(file: UploadedFile, info: ImageInfo) -> PreparedImage:
    """`file` must have passed marketplace.uploads.validate_image (which gave `info`).
    The original is turned upright (EXIF orientation) and re-encoded, which also drops EXIF
    data such as the GPS position of a phone photo; GIFs are kept as they are (animation)."""
    stem = uuid.uuid4().hex
    extension = ORIGINAL_FORMATS[info.format]
    file.seek(0)
    with Image.open(file) as opened:
        opened.load()
        upright = ImageOps.exif_transpose(opened)
        if info.format == "GIF":
            file.seek(0)
            original = ContentFile(file.read(), name=f"{stem}.{extension}")
        else:
            original = ContentFile(_encode(upright, info.format, quality=90), name=f"{stem}.{extension}")
        thumbnail = upright.copy()
    file.seek(0)
    thumbnail.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
    return PreparedImage(
        original=original,
        thumbnail=ContentFile(
            _encode(thumbnail, THUMBNAIL_FORMAT[0], quality=80), name=f"{stem}.{THUMBNAIL_FORMAT[1]}"
        ),
    )


def _encode(image: Image.Image, image_format: str, *, quality: int) -> bytes:
    if image_format == "JPEG" and image.mode not in ("RGB", "L", "CMYK"):
        image = _flatten(image)
    elif image_format == "WEBP" and image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    buffer = io.BytesIO()
    options: dict = {}
    if image_format in ("JPEG", "WEBP"):
        options["quality"] = quality
    if image_format == "JPEG":
        options["optimize"] = True
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def _flatten(image: Image.Image) -> Image.Image:
    """JPEG has no transparency: put the picture on white."""
    if not _has_alpha(image):
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, "white")
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background
