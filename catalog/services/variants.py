"""Variants (SKUs): price, stock, weight and the attribute values they differ by."""

from decimal import Decimal
from typing import TypedDict

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _

from catalog.models import Attribute, AttributeValue, Product, ProductVariant
from catalog.services.derived import product_refresh_derived
from catalog.services.validation import (
    DuplicateSku,
    ProductInvalid,
    amount_clean,
    attributes_clean,
    compare_at_check,
    is_chinese,
    optional_amount_clean,
    sku_clean,
    stable_slug,
    stock_clean,
    variant_name_clean,
    weight_clean,
)
from marketplace.errors import NotFound
from marketplace.models import User
from marketplace.services import audit_record
from vendors.models import Vendor


class VariantData(TypedDict, total=False):
    sku: str
    name: str
    price: Decimal | str
    compare_at_price: Decimal | str | None
    stock: int | str
    weight_grams: int | str
    is_active: bool
    attributes: dict[str, str]


def _attribute_get_or_create(name: str) -> Attribute:
    found = Attribute.objects.filter(Q(name_en__iexact=name) | Q(name_zh_hans__iexact=name)).order_by("pk").first()
    if found is not None:
        return found
    language_field = "name_zh_hans" if is_chinese(name) else "name_en"
    attribute, _created = Attribute.objects.get_or_create(
        slug=stable_slug(name, prefix="a"), defaults={language_field: name}
    )
    return attribute


def _attribute_value_get_or_create(attribute: Attribute, value: str) -> AttributeValue:
    found = (
        AttributeValue.objects.filter(attribute=attribute)
        .filter(Q(value_en__iexact=value) | Q(value_zh_hans__iexact=value))
        .order_by("pk")
        .first()
    )
    if found is not None:
        return found
    language_field = "value_zh_hans" if is_chinese(value) else "value_en"
    attribute_value, _created = AttributeValue.objects.get_or_create(
        attribute=attribute, slug=stable_slug(value, prefix="v"), defaults={language_field: value}
    )
    return attribute_value


def attribute_values_get_or_create(*, attributes: dict[str, str]) -> list[AttributeValue]:
    """{'Colour': 'Red'} -> AttributeValue rows, matched by name in either language, else created.
    Safe under concurrency: creation is keyed by a deterministic slug with a unique constraint."""
    values = []
    seen_attributes: set[int] = set()
    for name, value in attributes_clean(attributes).items():
        attribute = _attribute_get_or_create(name)
        if attribute.pk in seen_attributes:
            raise ProductInvalid(_("The option “%(name)s” is given twice.") % {"name": name}, field="attributes")
        seen_attributes.add(attribute.pk)
        values.append(_attribute_value_get_or_create(attribute, value))
    return values


def sku_is_taken(*, vendor_id: int, sku: str, exclude_variant_id: int | None = None) -> bool:
    return ProductVariant.objects.filter(vendor_id=vendor_id, sku=sku).exclude(pk=exclude_variant_id).exists()


def variant_write(
    *, product: Product, actor: User | None, data: VariantData, variant: ProductVariant | None = None
) -> tuple[ProductVariant, list[str]]:
    """Validate and save one variant of `product` (a new one when `variant` is None). Only the
    keys present in `data` change, and only their columns are written, so that a concurrent
    stock reservation is never overwritten by an edit of, say, the name. Building block of the
    entry points below: it does not refresh the product's derived fields. Returns the variant
    and the names of the fields that changed."""
    creating = variant is None
    if creating:
        missing = [key for key in ("sku", "price") if key not in data]
        if missing:
            raise ProductInvalid(_("This field is required."), field=missing[0])
        next_position = product.variants.aggregate(top=Max("position"))["top"]
        variant = ProductVariant(
            product=product, vendor_id=product.vendor_id, position=0 if next_position is None else next_position + 1
        )
    old_price = variant.price
    changed: list[str] = []

    def assign(field: str, value) -> None:
        if creating or getattr(variant, field) != value:
            setattr(variant, field, value)
            changed.append(field)

    if "sku" in data:
        sku = sku_clean(data["sku"])
        if (creating or sku != variant.sku) and sku_is_taken(
            vendor_id=product.vendor_id, sku=sku, exclude_variant_id=variant.pk
        ):
            raise DuplicateSku(sku)
        assign("sku", sku)
    if "name" in data:
        assign("name", variant_name_clean(data["name"]))
    if "price" in data:
        assign("price", amount_clean(data["price"], currency=product.currency, field="price"))
    if "compare_at_price" in data:
        assign(
            "compare_at_price",
            optional_amount_clean(data["compare_at_price"], currency=product.currency, field="compare_at_price"),
        )
    compare_at_check(price=variant.price, compare_at_price=variant.compare_at_price)
    if "stock" in data:
        assign("stock", stock_clean(data["stock"]))
    if "weight_grams" in data:
        assign("weight_grams", weight_clean(data["weight_grams"]))
    if "is_active" in data:
        assign("is_active", bool(data["is_active"]))

    try:
        with transaction.atomic():  # a savepoint: a concurrent insert of the same SKU ends up here
            if creating:
                variant.save()
            elif changed:
                variant.save(update_fields=changed)
    except IntegrityError:
        raise DuplicateSku(variant.sku) from None

    if "attributes" in data:
        new_values = attribute_values_get_or_create(attributes=data["attributes"] or {})
        current = set() if creating else set(variant.attribute_values.values_list("pk", flat=True))
        if {value.pk for value in new_values} != current:
            variant.attribute_values.set(new_values)
            changed.append("attributes")
    if not creating and "price" in changed:
        audit_record(
            actor=actor,
            action="variant.price_change",
            obj=variant,
            data={"sku": variant.sku, "from": str(old_price), "to": str(variant.price)},
        )
    return variant, changed


def product_sellable_check(*, product: Product) -> None:
    """An active product must have something to sell."""
    if product.status == Product.Status.ACTIVE and not product.variants.filter(is_active=True).exists():
        raise ProductInvalid(
            _("A product on sale needs at least one active variant. Add one, or hide the product first."),
            field="status",
        )


@transaction.atomic
def variant_create(*, product: Product, actor: User, data: VariantData) -> ProductVariant:
    """Adds a variant; its SKU code must be new in the shop (another shop may use the same code)."""
    variant, _changed = variant_write(product=product, actor=actor, data=data)
    product_refresh_derived(product_ids=[product.pk])
    return variant


@transaction.atomic
def variant_update(*, variant: ProductVariant, actor: User, data: VariantData) -> ProductVariant:
    """Changes only the given fields. Stock given here is the new absolute stock."""
    product = variant.product
    variant, _changed = variant_write(product=product, actor=actor, data=data, variant=variant)
    product_sellable_check(product=product)
    product_refresh_derived(product_ids=[product.pk])
    return variant


@transaction.atomic
def variant_delete(*, variant: ProductVariant, actor: User) -> None:
    """Placed orders keep their line snapshots (the line's variant link becomes empty);
    carts holding the variant lose that line."""
    product = variant.product
    audit_record(actor=actor, action="variant.delete", obj=variant, data={"sku": variant.sku, "product": product.pk})
    variant.delete()
    product_sellable_check(product=product)
    product_refresh_derived(product_ids=[product.pk])


@transaction.atomic
def stock_bulk_update(*, vendor: Vendor, actor: User, changes: dict[int, int | str]) -> list[ProductVariant]:
    """Sets the stock of many of the shop's variants at once: all of them or none. Variants of
    other shops are "not found". Rows are locked in primary-key order (the order stock
    reservations lock in) so this cannot deadlock against checkout."""
    if not changes:
        return []
    try:
        wanted = {int(variant_id): value for variant_id, value in changes.items()}
    except (TypeError, ValueError):
        raise NotFound(_("Variant not found in your shop.")) from None
    variants = list(ProductVariant.objects.select_for_update().filter(vendor=vendor, pk__in=wanted).order_by("pk"))
    missing = set(wanted) - {variant.pk for variant in variants}
    if missing:
        raise NotFound(_("Variant %(id)s not found in your shop.") % {"id": min(missing)})
    changed = []
    log = {}
    for variant in variants:
        try:
            stock = stock_clean(wanted[variant.pk], field=f"stock-{variant.pk}")
        except ProductInvalid as exc:
            raise ProductInvalid(f"{variant.sku}: {exc}", field=exc.field) from None
        if stock != variant.stock:
            log[variant.sku] = [variant.stock, stock]
            variant.stock = stock
            changed.append(variant)
    if changed:
        ProductVariant.objects.bulk_update(changed, ["stock"])
        audit_record(actor=actor, action="stock.bulk_update", obj=vendor, data={"changes": log})
        product_refresh_derived(product_ids={variant.product_id for variant in changed})
    return changed
