"""Rows of placed orders, written directly, for the fulfilment, payment and dashboard tests
(checkout has its own tests through order_place)."""

import itertools
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from catalog.models import ProductVariant
from catalog.tests.factories import VariantFactory
from marketplace.models import User
from orders.models import Order, OrderEvent, OrderLine, VendorOrder
from vendors.models import Vendor

_numbers = itertools.count(1)

ADDRESS = {
    "recipient": "Li Lei",
    "phone": "13800000000",
    "country": "CN",
    "region": "Shanghai",
    "city": "Shanghai",
    "district": "Xuhui",
    "street": "88 Tianyaoqiao Road, Room 1203",
    "postal_code": "200030",
}


def placed_order(
    *,
    buyer: User,
    items: dict[Vendor, list[tuple[ProductVariant, int]]] | None = None,
    shipping: str = "10.00",
    expires_in: timedelta = timedelta(minutes=30),
) -> Order:
    """An order awaiting payment: one VendorOrder per shop, lines priced at the variant's price."""
    serial = next(_numbers)
    if items is None:
        items = {}
    order = Order.objects.create(
        number=f"T{timezone.now():%y%m%d}{serial:06d}",
        buyer=buyer,
        items_total=0,
        shipping_total=0,
        grand_total=0,
        shipping_address=dict(ADDRESS),
        expires_at=timezone.now() + expires_in,
    )
    items_total = shipping_total = Decimal("0.00")
    for index, (vendor, variants) in enumerate(items.items(), start=1):
        vendor_items = Decimal("0.00")
        vendor_order = VendorOrder.objects.create(
            order=order,
            vendor=vendor,
            number=f"{order.number}-{index}",
            items_total=0,
            shipping_total=shipping,
            total=0,
            shipping_method="Standard",
        )
        for variant, quantity in variants:
            unit_price = Decimal(str(variant.price))
            line_total = unit_price * quantity
            OrderLine.objects.create(
                vendor_order=vendor_order,
                variant=variant,
                product_id_snapshot=variant.product_id,
                product_title=variant.product.title,
                variant_name=variant.name,
                sku=variant.sku,
                unit_price=unit_price,
                quantity=quantity,
                line_total=line_total,
            )
            vendor_items += line_total
        VendorOrder.objects.filter(pk=vendor_order.pk).update(
            items_total=vendor_items, total=vendor_items + Decimal(shipping)
        )
        items_total += vendor_items
        shipping_total += Decimal(shipping)
    Order.objects.filter(pk=order.pk).update(
        items_total=items_total, shipping_total=shipping_total, grand_total=items_total + shipping_total
    )
    OrderEvent.objects.create(order=order, actor=buyer, type="placed")
    order.refresh_from_db()
    return order


def order_for(*, buyer: User, vendors: list[Vendor], quantity: int = 2, price: str = "50.00") -> Order:
    """A one-line-per-shop order, with a fresh product per shop."""
    return placed_order(
        buyer=buyer,
        items={vendor: [(VariantFactory(product__vendor=vendor, price=price), quantity)] for vendor in vendors},
    )
