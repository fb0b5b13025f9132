"""Reads of a shop's own catalog for its dashboard and the vendor API. Every product, variant
or image is fetched together with the shop it must belong to: anything else is "not found"."""

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from catalog.models import Product, ProductImage, ProductVariant
from marketplace.errors import NotFound
from vendors.models import Vendor

BANNED = "banned"  # a list filter beside the statuses


def _variants_with_options() -> Prefetch:
    return Prefetch(
        "variants",
        queryset=ProductVariant.objects.prefetch_related("attribute_values__attribute").order_by("position", "id"),
    )


def product_get_for_vendor(*, vendor: Vendor, id: int, for_edit: bool = False) -> Product:
    """The shop's product, or NotFound (also for other shops' products: no hint that it exists)."""
    queryset = Product.objects.filter(vendor=vendor).select_related("category", "vendor")
    if for_edit:
        queryset = queryset.prefetch_related(_variants_with_options(), "images")
    product = queryset.filter(pk=id).first()
    if product is None:
        raise NotFound(_("Product not found."))
    return product


def variant_get_for_vendor(*, vendor: Vendor, id: int) -> ProductVariant:
    variant = ProductVariant.objects.filter(vendor=vendor, pk=id).select_related("product").first()
    if variant is None:
        raise NotFound(_("Variant not found."))
    return variant


def product_image_get_for_vendor(*, vendor: Vendor, product: Product, id: int) -> ProductImage:
    image = (
        ProductImage.objects.filter(product__vendor=vendor, product=product, pk=id).select_related("product").first()
    )
    if image is None:
        raise NotFound(_("Image not found."))
    return image


def vendor_product_list(
    *, vendor: Vendor, query: str = "", status: str = "", with_variants: bool = False
) -> QuerySet[Product]:
    """The shop's products, newest first, searched by title (either language) or SKU code.
    `status` is a Product.Status value or "banned"."""
    products = Product.objects.filter(vendor=vendor).select_related("category")
    if status == BANNED:
        products = products.filter(is_banned=True)
    elif status in Product.Status.values:
        products = products.filter(status=status)
    query = query.strip()
    if query:
        matching_skus = ProductVariant.objects.filter(vendor=vendor, sku__icontains=query).values("product_id")
        products = products.filter(
            Q(title_en__icontains=query) | Q(title_zh_hans__icontains=query) | Q(pk__in=matching_skus)
        )
    if with_variants:
        products = products.prefetch_related(_variants_with_options(), "images")
    return products.order_by("-created_at", "-id")


def vendor_variant_list(*, vendor: Vendor, query: str = "") -> QuerySet[ProductVariant]:
    """The shop's variants for the stock page, grouped by product."""
    variants = ProductVariant.objects.filter(vendor=vendor).select_related("product")
    query = query.strip()
    if query:
        variants = variants.filter(
            Q(sku__icontains=query) | Q(product__title_en__icontains=query) | Q(product__title_zh_hans__icontains=query)
        )
    return variants.order_by("-product__created_at", "product_id", "position", "id")
