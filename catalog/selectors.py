"""Reads of the catalog. What shoppers can see is decided here, once."""

from django.db.models import Q, QuerySet

from catalog.models import Product, ProductVariant
from vendors.models import Vendor

# A product is on sale when it is active, not banned, and its shop is active.
VISIBLE_PRODUCT = Q(status=Product.Status.ACTIVE, is_banned=False, vendor__status=Vendor.Status.ACTIVE)


def product_visible_qs() -> QuerySet[Product]:
    return Product.objects.filter(VISIBLE_PRODUCT)


def variant_orderable_qs() -> QuerySet[ProductVariant]:
    """Variants a buyer may put in the cart or order (stock is checked separately)."""
    return ProductVariant.objects.filter(
        is_active=True,
        product__status=Product.Status.ACTIVE,
        product__is_banned=False,
        product__vendor__status=Vendor.Status.ACTIVE,
    )
