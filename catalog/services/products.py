"""Products: create, edit, duplicate, status changes by the shop, bans by the marketplace."""

import re
import secrets
from decimal import Decimal
from typing import TypedDict

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _

from catalog.cache import products_changed
from catalog.models import Category, Product
from catalog.services.derived import product_refresh_derived
from catalog.services.media import product_images_copy
from catalog.services.validation import (
    SKU_MAX_LENGTH,
    ProductBanned,
    ProductInvalid,
    description_clean,
    referral_rate_clean,
    title_clean,
)
from catalog.services.variants import VariantData, product_sellable_check, sku_is_taken, variant_write
from marketplace.models import User
from marketplace.services import audit_record, notification_send
from vendors.models import Role, Vendor

SLUG_MAX_LENGTH = 200


class ProductData(TypedDict, total=False):
    title_en: str
    title_zh_hans: str
    description_en: str
    description_zh_hans: str
    category: Category
    referral_rate: Decimal  # 0..settings.REFERRAL_RATE_MAX
    slug: str  # only when creating; an address once given never changes
    status: str
    variants: list[VariantData]  # only when creating


TRANSLATED_FIELDS = ("title_en", "title_zh_hans", "description_en", "description_zh_hans")


def product_fields_apply(*, product: Product, data: ProductData) -> list[str]:
    """Validate and assign the editable fields present in `data`; returns the changed names.
    A product must keep a title in at least one language."""
    values: dict[str, object] = {}
    for field in ("title_en", "title_zh_hans"):
        if field in data:
            values[field] = title_clean(data[field], field=field)
    for field in ("description_en", "description_zh_hans"):
        if field in data:
            values[field] = description_clean(data[field])
    if "category" in data:
        if not isinstance(data["category"], Category):
            raise ProductInvalid(_("Choose a category."), field="category")
        values["category"] = data["category"]
    if "referral_rate" in data:
        values["referral_rate"] = referral_rate_clean(data["referral_rate"])
    changed = []
    for field, value in values.items():
        if field == "referral_rate":
            if product.referral_rate != value:
                product.referral_rate = value
                changed.append(field)
        elif field == "category":
            if product.category_id != value.pk:
                product.category = value
                changed.append(field)
        elif (getattr(product, field) or "") != value:
            setattr(product, field, value)
            changed.append(field)
    if not (product.title_en or product.title_zh_hans):
        raise ProductInvalid(_("A product needs a title in English or in Chinese."), field="title_en")
    if not product.category_id:
        raise ProductInvalid(_("Choose a category."), field="category")
    return changed


def _slug_base(*, title: str, requested: str) -> str:
    if requested:
        slug = slugify(requested, allow_unicode=False)[:SLUG_MAX_LENGTH].strip("-")
        if slug != requested:
            raise ProductInvalid(
                _("A product address may only use lower-case letters, digits and hyphens."), field="slug"
            )
        return slug
    # Chinese titles slugify to nothing: such products get a short random address instead.
    return slugify(title, allow_unicode=False)[: SLUG_MAX_LENGTH - 10].strip("-") or f"p-{secrets.token_hex(4)}"


def _slug_free(base: str) -> str:
    taken = set(
        Product.objects.filter(slug__startswith=base, slug__regex=rf"^{re.escape(base)}(-[0-9]+)?$").values_list(
            "slug", flat=True
        )
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def product_save_new(*, product: Product, requested_slug: str = "") -> None:
    """Saves a new product under a unique address (slug), retrying once if another request
    took the same address between our check and our insert."""
    title = product.title_en or product.title_zh_hans or ""
    base = _slug_base(title=title, requested=requested_slug)
    for attempt in range(3):
        slug = _slug_free(base) if attempt == 0 else f"{base[: SLUG_MAX_LENGTH - 9]}-{secrets.token_hex(4)}"
        if requested_slug and slug != requested_slug:
            raise ProductInvalid(_("The address “%(slug)s” is already taken.") % {"slug": requested_slug}, field="slug")
        product.slug = slug
        try:
            with transaction.atomic():
                product.save()
            return
        except IntegrityError:
            if requested_slug or attempt == 2:
                raise ProductInvalid(
                    _("The address “%(slug)s” is already taken.") % {"slug": slug}, field="slug"
                ) from None


def status_change(*, product: Product, actor: User | None, status: str) -> bool:
    """The one place a product's status changes (locks the row: a ban may be racing)."""
    if status not in Product.Status.values:
        raise ProductInvalid(_("Unknown status “%(status)s”.") % {"status": status}, field="status")
    locked = Product.objects.select_for_update().get(pk=product.pk)
    product.is_banned, product.ban_reason = locked.is_banned, locked.ban_reason
    if locked.status == status:
        product.status = status
        return False
    if status == Product.Status.ACTIVE and locked.is_banned:
        raise ProductBanned(
            _("This product was banned by the marketplace (%(reason)s); it cannot be put on sale.")
            % {"reason": locked.ban_reason}
        )
    old = locked.status
    product.status = status
    product_sellable_check(product=product)
    Product.objects.filter(pk=product.pk).update(status=status)
    audit_record(actor=actor, action="product.status", obj=product, data={"from": old, "to": status})
    return True


@transaction.atomic
def product_create(*, vendor: Vendor, actor: User, data: ProductData) -> Product:
    """Creates a product (draft unless `status` says otherwise) with its variants, in the shop's
    currency, under a unique address derived from the title."""
    product = Product(vendor=vendor, currency=vendor.currency, status=Product.Status.DRAFT)
    product_fields_apply(product=product, data=data)
    product_save_new(product=product, requested_slug=(data.get("slug") or "").strip())
    for variant_data in data.get("variants") or []:
        variant_write(product=product, actor=actor, data=variant_data)
    audit_record(actor=actor, action="product.create", obj=product, data={"slug": product.slug})
    if data.get("status") and data["status"] != Product.Status.DRAFT:
        status_change(product=product, actor=actor, status=data["status"])
    product_refresh_derived(product_ids=[product.pk])
    product.refresh_from_db()
    return product


@transaction.atomic
def product_update(*, product: Product, actor: User, data: ProductData) -> Product:
    """Edits titles, descriptions, category and status (only the keys present), all or nothing.
    Only changed columns are written: the order side updates sold_count and the derived fields
    concurrently. A status change follows product_set_status's rules."""
    changed = product_fields_apply(product=product, data=data)
    if changed:
        product.save(update_fields=[*changed, "updated_at"])
    status_changed = bool(data.get("status")) and status_change(product=product, actor=actor, status=data["status"])
    if changed or status_changed:
        product_refresh_derived(product_ids=[product.pk])
        product.refresh_from_db()
    return product


def _sku_copy(*, vendor_id: int, sku: str, taken: set[str]) -> str:
    number = 1
    while True:
        suffix = "-COPY" if number == 1 else f"-COPY{number}"
        candidate = sku[: SKU_MAX_LENGTH - len(suffix)] + suffix
        if candidate not in taken and not sku_is_taken(vendor_id=vendor_id, sku=candidate):
            taken.add(candidate)
            return candidate
        number += 1


@transaction.atomic
def product_duplicate(*, product: Product, actor: User) -> Product:
    """A draft copy with the same texts and category, every variant (SKU codes get a -COPY,
    -COPY2... suffix, stock and prices kept), their attribute values and copies of the images."""
    copy = Product(
        vendor_id=product.vendor_id,
        category_id=product.category_id,
        currency=product.currency,
        status=Product.Status.DRAFT,
        referral_rate=product.referral_rate,
        **{field: getattr(product, field) for field in TRANSLATED_FIELDS},
    )
    product_save_new(product=copy)
    taken: set[str] = set()
    for variant in product.variants.prefetch_related("attribute_values"):
        new_variant, _changed = variant_write(
            product=copy,
            actor=actor,
            data={
                "sku": _sku_copy(vendor_id=product.vendor_id, sku=variant.sku, taken=taken),
                "name": variant.name,
                "price": variant.price,
                "compare_at_price": variant.compare_at_price,
                "stock": variant.stock,
                "weight_grams": variant.weight_grams,
                "is_active": variant.is_active,
            },
        )
        new_variant.attribute_values.set(variant.attribute_values.all())
    product_images_copy(source=product, target=copy)
    audit_record(actor=actor, action="product.duplicate", obj=copy, data={"source": product.pk})
    product_refresh_derived(product_ids=[copy.pk])
    copy.refresh_from_db()
    return copy


@transaction.atomic
def product_set_status(*, product: Product, actor: User, status: str) -> Product:
    """draft, active or hidden. A banned product cannot be put on sale; an active product needs
    an active variant. Idempotent: setting the current status changes nothing."""
    if status_change(product=product, actor=actor, status=status):
        products_changed(product_ids=[product.pk])
    product.refresh_from_db()
    return product


def _notify_owners(*, product: Product, kind: str, title: str, body: str) -> None:
    url = reverse("catalog:dashboard_product_edit", args=[product.pk])
    owners = User.objects.filter(vendor_memberships__vendor_id=product.vendor_id, vendor_memberships__role=Role.OWNER)
    for owner in owners:
        notification_send(user=owner, kind=kind, title=title, body=body, url=url)


@transaction.atomic
def product_ban(*, product: Product, actor: User, reason: str) -> Product:
    """Admin: takes the product off sale whatever its status, with a reason the shop's owners
    are told (in-app now, e-mail after commit). Banning a banned product only updates the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ProductInvalid(_("Give the shop a reason for the ban."), field="reason")
    locked = Product.objects.select_for_update().get(pk=product.pk)
    if locked.is_banned and locked.ban_reason == reason:
        return locked
    Product.objects.filter(pk=product.pk).update(is_banned=True, ban_reason=reason)
    product.refresh_from_db()
    audit_record(actor=actor, action="product.ban", obj=product, data={"reason": reason})
    _notify_owners(
        product=product,
        kind="product_banned",
        title=_("Your product “%(title)s” was taken off sale") % {"title": product.title},
        body=reason,
    )
    products_changed(product_ids=[product.pk])
    return product


@transaction.atomic
def product_unban(*, product: Product, actor: User) -> Product:
    """Admin: lifts a ban; the product returns to the status the shop had given it."""
    locked = Product.objects.select_for_update().get(pk=product.pk)
    if not locked.is_banned:
        return locked
    Product.objects.filter(pk=product.pk).update(is_banned=False, ban_reason="")
    product.refresh_from_db()
    audit_record(actor=actor, action="product.unban", obj=product, data={"reason": locked.ban_reason})
    _notify_owners(
        product=product,
        kind="product_unbanned",
        title=_("Your product “%(title)s” may be sold again") % {"title": product.title},
        body="",
    )
    products_changed(product_ids=[product.pk])
    return product
