"""Placed orders with coupons and referrals already on their lines, written directly as rows
(like orders.tests.fulfilment_factories.placed_order) so that money tests can pay them through
the sandbox before checkout applies coupons and referrals itself.

The rows are written exactly as given: a line whose referrer is the buyer, or whose referral
rate is above the platform maximum, stays so, which lets the split prove it defends itself."""

import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from catalog.models import ProductVariant
from marketplace.models import User
from marketplace.money import quantize
from orders.models import Order, OrderEvent, OrderLine, VendorOrder
from orders.tests.fulfilment_factories import ADDRESS
from vendors.models import Vendor

_numbers = itertools.count(1)
ZERO = Decimal(0)


@dataclass(frozen=True)
class LineSpec:
    variant: ProductVariant
    unit_price: Decimal
    quantity: int
    shop_discount: Decimal = ZERO
    platform_discount: Decimal = ZERO
    referrer: User | None = None
    referral_rate: Decimal = ZERO

    def line_total(self, currency: str) -> Decimal:
        return quantize(self.unit_price * self.quantity, currency)


@dataclass(frozen=True)
class ShopSpec:
    vendor: Vendor
    shipping: Decimal
    lines: list[LineSpec] = field(default_factory=list)


def discounted_order(*, buyer: User, shops: list[ShopSpec], currency: str = "CNY") -> Order:
    """An order awaiting payment, one VendorOrder per ShopSpec (in that order), whose totals are
    consistent with its lines' discounts the way checkout writes them:
    VendorOrder.total = items + shipping − shop discount − platform discount, and
    Order.grand_total = items + shipping − discount_total."""
    serial = next(_numbers)
    now = timezone.now()
    order = Order.objects.create(
        number=f"P{now:%y%m%d}{serial:07d}",
        buyer=buyer,
        currency=currency,
        items_total=0,
        shipping_total=0,
        grand_total=0,
        shipping_address=dict(ADDRESS),
        expires_at=now + timedelta(minutes=30),
    )
    items_total = shipping_total = discount_total = quantize(ZERO, currency)
    for index, shop in enumerate(shops, start=1):
        shipping = quantize(shop.shipping, currency)
        line_totals = [line.line_total(currency) for line in shop.lines]
        shop_items = quantize(sum(line_totals, ZERO), currency)
        shop_discount = quantize(sum((line.shop_discount for line in shop.lines), ZERO), currency)
        platform_discount = quantize(sum((line.platform_discount for line in shop.lines), ZERO), currency)
        vendor_order = VendorOrder.objects.create(
            order=order,
            vendor=shop.vendor,
            number=f"{order.number}-{index}",
            currency=currency,
            items_total=shop_items,
            shipping_total=shipping,
            shop_discount=shop_discount,
            platform_discount=platform_discount,
            total=shop_items + shipping - shop_discount - platform_discount,
            shipping_method="Standard",
        )
        OrderLine.objects.bulk_create(
            OrderLine(
                vendor_order=vendor_order,
                variant=line.variant,
                product_id_snapshot=line.variant.product_id,
                product_title=line.variant.product.title,
                variant_name=line.variant.name,
                sku=line.variant.sku,
                unit_price=line.unit_price,
                quantity=line.quantity,
                line_total=line_total,
                shop_discount=quantize(line.shop_discount, currency),
                platform_discount=quantize(line.platform_discount, currency),
                referrer=line.referrer,
                referral_rate=line.referral_rate,
            )
            for line, line_total in zip(shop.lines, line_totals, strict=True)
        )
        items_total += shop_items
        shipping_total += shipping
        discount_total += shop_discount + platform_discount
    Order.objects.filter(pk=order.pk).update(
        items_total=items_total,
        shipping_total=shipping_total,
        discount_total=discount_total,
        grand_total=items_total + shipping_total - discount_total,
    )
    OrderEvent.objects.create(order=order, actor=buyer, type="placed")
    order.refresh_from_db()
    return order


def one_shop_order(*, buyer: User, vendor: Vendor, lines: list[LineSpec]) -> Order:
    """discounted_order for the stories' usual case: one shop, free shipping."""
    return discounted_order(buyer=buyer, shops=[ShopSpec(vendor=vendor, shipping=Decimal(0), lines=lines)])
