"""Product images: checked, turned upright, thumbnailed on upload; files removed after commit."""

import uuid
from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from catalog.images import product_image_prepare
from catalog.models import Product, ProductImage
from catalog.services.derived import product_refresh_derived
from marketplace.errors import InvalidUpload
from marketplace.models import User
from marketplace.services import audit_record
from marketplace.uploads import validate_image

MAX_IMAGES_PER_PRODUCT = 20


def product_image_add(*, product: Product, actor: User, file: UploadedFile, alt: str = "") -> ProductImage:
    """Refuses anything that is not a readable JPEG/PNG/WebP/GIF within the size and pixel
    limits (InvalidUpload, nothing stored). The image work runs before the transaction opens so
    that no row lock or connection waits on Pillow; the first image becomes the cover."""
    if product.images.count() >= MAX_IMAGES_PER_PRODUCT:
        raise InvalidUpload(reason=_("A product can have at most %(n)d images.") % {"n": MAX_IMAGES_PER_PRODUCT})
    info = validate_image(file)
    prepared = product_image_prepare(file, info)
    stored: list[str] = []
    try:
        with transaction.atomic():
            top = product.images.aggregate(top=Max("position"))["top"]
            image = ProductImage(product=product, alt=(alt or "").strip()[:200], position=0 if top is None else top + 1)
            image.image.save(prepared.original.name, prepared.original, save=False)
            stored.append(image.image.name)
            image.thumbnail.save(prepared.thumbnail.name, prepared.thumbnail, save=False)
            stored.append(image.thumbnail.name)
            image.save()
            audit_record(actor=actor, action="product.image_add", obj=product, data={"image": image.image.name})
            product_refresh_derived(product_ids=[product.pk])
    except BaseException:
        for name in stored:  # the row was never committed: do not leave its files behind
            default_storage.delete(name)
        raise
    return image


@transaction.atomic
def product_image_delete(*, image: ProductImage, actor: User) -> None:
    """Deletes the row now and its files after commit (a rollback keeps both)."""
    product_id = image.product_id
    names = [name for name in (image.image.name, image.thumbnail.name) if name]
    audit_record(actor=actor, action="product.image_delete", obj=image.product, data={"image": image.image.name})
    image.delete()
    transaction.on_commit(lambda: [default_storage.delete(name) for name in names])
    product_refresh_derived(product_ids=[product_id])


def product_images_copy(*, source: Product, target: Product) -> None:
    """Copies the image files too, so deleting one product's image never breaks the other's."""
    for image in source.images.all():
        copy = ProductImage(product=target, alt=image.alt, position=image.position)
        for field in ("image", "thumbnail"):
            original = getattr(image, field)
            if not original.name:
                continue
            with default_storage.open(original.name, "rb") as handle:
                content = ContentFile(handle.read())
            getattr(copy, field).save(f"{uuid.uuid4().hex}{PurePosixPath(original.name).suffix}", content, save=False)
        copy.save()
