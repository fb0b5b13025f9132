"""Coupons at order placement: which apply, how much they take off, how the discount is shared
across the order's lines (largest remainder, by funder), every reason one is refused (nothing
written then), and the use given back when the order expires or is cancelled."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import ProductVariant
from catalog.tests.factories import VariantFactory, make_category
from marketplace.errors import DomainError
from marketplace.models import AuditEvent
from orders.models import CartLine, Coupon, CouponClaim, CouponRedemption, Order, OrderEvent, OrderLine, VendorOrder
from orders.services.cart import cart_add_line, cart_get_or_create
from orders.services.checkout import order_cancel_by_buyer, order_expire, order_place
from orders.services.coupons import (
    CouponBuyerLimitReached,
    CouponConflict,
    CouponExpired,
    CouponInactive,
    CouponLimitReached,
    CouponMinSpendNotReached,
    CouponNotEligible,
    CouponNotStarted,
    CouponUnknown,
    CouponWrongCurrency,
    TooManyCoupons,
    coupon_claim,
)
from orders.tests.coupon_factories import CouponFactory
from orders.tests.factories import AddressFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tea(shop_a):
    return VariantFactory(product__vendor=shop_a, product__title="Longjing", sku="TEA-1", price="33.30", stock=50)


@pytest.fixture
def cup(shop_a):
    return VariantFactory(product__vendor=shop_a, product__title="Tea cup", sku="CUP-1", price="0.10", stock=50)


@pytest.fixture
def ball(shop_b):
    return VariantFactory(product__vendor=shop_b, product__title="Basketball", sku="BALL-1", price="120.00", stock=50)


@pytest.fixture
def address(buyer):
    return AddressFactory(user=buyer)


def fill(buyer, *items):
    cart = cart_get_or_create(user=buyer, session_key=None)
    for variant, quantity in items:
        cart_add_line(cart=cart, variant_id=variant.pk, quantity=quantity)
    return cart


def place(buyer, address, *items, codes):
    return order_place(buyer=buyer, cart=fill(buyer, *items), address=address, coupon_codes=codes)


def lines_by_sku(order) -> dict[str, OrderLine]:
    return {line.sku: line for line in OrderLine.objects.filter(vendor_order__order=order)}


def snapshot() -> tuple:
    return (
        Order.objects.count(),
        VendorOrder.objects.count(),
        OrderLine.objects.count(),
        CouponRedemption.objects.count(),
        sorted(ProductVariant.objects.values_list("sku", "stock")),
        sorted(Coupon.objects.values_list("id", "used_count")),
        CartLine.objects.count(),
    )


# --- How much, and on which lines -----------------------------------------------------------


def test_shop_coupon_is_shared_across_its_lines_by_largest_remainder(buyer, address, shop_a, tea, cup):
    CouponFactory(vendor=shop_a, code="TEA10", value="10.00")

    order = place(buyer, address, (tea, 3), (cup, 3), codes=["tea10"])

    # 10.00 over 99.90 and 0.30: 9.97005... and 0.02994...; the leftover cent goes to the cup.
    lines = lines_by_sku(order)
    assert (lines["TEA-1"].shop_discount, lines["CUP-1"].shop_discount) == (Decimal("9.97"), Decimal("0.03"))
    assert lines["TEA-1"].platform_discount == lines["CUP-1"].platform_discount == Decimal("0.00")
    assert lines["TEA-1"].paid_amount == Decimal("89.93")
    part = VendorOrder.objects.get(order=order)
    # 100.20 of goods ships free (over 99.00): shipping is computed before the discount.
    assert (part.items_total, part.shipping_total, part.shop_discount, part.platform_discount, part.total) == (
        Decimal("100.20"),
        Decimal("0.00"),
        Decimal("10.00"),
        Decimal("0.00"),
        Decimal("90.20"),
    )
    order.refresh_from_db()
    assert (order.items_total, order.discount_total, order.grand_total) == (
        Decimal("100.20"),
        Decimal("10.00"),
        Decimal("90.20"),
    )


def test_shop_coupon_only_discounts_its_own_shops_lines(buyer, address, shop_a, tea, ball):
    CouponFactory(vendor=shop_a, code="TEAHOUSE", value="5.00")

    order = place(buyer, address, (tea, 1), (ball, 1), codes=["TEAHOUSE"])

    lines = lines_by_sku(order)
    assert lines["TEA-1"].shop_discount == Decimal("5.00")
    assert lines["BALL-1"].shop_discount == lines["BALL-1"].platform_discount == Decimal("0.00")
    parts = {part.vendor_id: part for part in VendorOrder.objects.filter(order=order)}
    assert parts[shop_a.pk].shop_discount == Decimal("5.00")
    assert parts[ball.product.vendor_id].shop_discount == Decimal("0.00")
    assert parts[ball.product.vendor_id].total == Decimal("132.00")  # 120.00 + 12.00 shipping


def test_platform_coupon_is_allocated_across_shops_and_funded_by_the_platform(buyer, address, tea, ball):
    CouponFactory(code="SHEQUN20", value="20.00")  # no vendor: the platform pays

    order = place(buyer, address, (tea, 3), (ball, 2), codes=["SHEQUN20"])

    # 20.00 over 99.90 and 240.00: 5.878... and 14.121...: 5.88 and 14.12.
    lines = lines_by_sku(order)
    assert (lines["TEA-1"].platform_discount, lines["BALL-1"].platform_discount) == (
        Decimal("5.88"),
        Decimal("14.12"),
    )
    assert all(line.shop_discount == 0 for line in lines.values())
    parts = {part.vendor.slug: part for part in VendorOrder.objects.filter(order=order).select_related("vendor")}
    assert parts["tea-house"].platform_discount == Decimal("5.88")
    assert parts["panda-sports"].platform_discount == Decimal("14.12")
    assert parts["panda-sports"].total == Decimal("240.00") + Decimal("12.00") - Decimal("14.12")
    order.refresh_from_db()
    assert order.discount_total == Decimal("20.00")
    assert order.grand_total == order.items_total + order.shipping_total - Decimal("20.00")
    assert sum(part.total for part in parts.values()) == order.grand_total


def test_platform_coupon_applies_to_what_is_left_after_the_shop_coupon(buyer, address, shop_a, tea):
    CouponFactory(vendor=shop_a, code="SHOP95", value="95.00")
    CouponFactory(code="PLAT10", value="10.00")

    order = place(buyer, address, (tea, 3), codes=["SHOP95", "PLAT10"])

    line = OrderLine.objects.get(vendor_order__order=order)
    # 99.90 - 95.00 leaves 4.90: the platform coupon takes at most that, never below zero.
    assert (line.shop_discount, line.platform_discount, line.paid_amount) == (
        Decimal("95.00"),
        Decimal("4.90"),
        Decimal("0.00"),
    )


def test_fixed_coupon_is_capped_at_the_eligible_total(buyer, address, shop_a, tea):
    CouponFactory(vendor=shop_a, code="HUGE", value="500.00")

    order = place(buyer, address, (tea, 1), codes=["HUGE"])

    order.refresh_from_db()
    line = OrderLine.objects.get(vendor_order__order=order)
    assert line.shop_discount == Decimal("33.30") and line.paid_amount == Decimal("0.00")
    assert order.grand_total == order.shipping_total == Decimal("10.00")
    assert CouponRedemption.objects.get(order=order).amount == Decimal("33.30")


def test_percent_coupon_rounds_half_up_and_respects_its_cap(buyer, other_buyer, shop_a, tea):
    CouponFactory(vendor=shop_a, code="PCT15", kind=Coupon.Kind.PERCENT, value="15.00", per_buyer_limit=5)
    CouponFactory(vendor=shop_a, code="PCT50", kind=Coupon.Kind.PERCENT, value="50.00", max_discount="20.00")

    first = place(buyer, AddressFactory(user=buyer), (tea, 3), codes=["PCT15"])
    second = place(other_buyer, AddressFactory(user=other_buyer), (tea, 3), codes=["PCT50"])

    assert Order.objects.get(pk=first.pk).discount_total == Decimal("14.99")  # 99.90 × 15% = 14.985
    assert Order.objects.get(pk=second.pk).discount_total == Decimal("20.00")  # 49.95, capped at 20.00


def test_yen_coupons_have_no_minor_unit(buyer, address):
    shop = VariantFactory(product__currency="JPY", price="1000", stock=10).product.vendor
    first = VariantFactory(product__vendor=shop, product__currency="JPY", price="1000", sku="JP-1", stock=10)
    second = VariantFactory(product__vendor=shop, product__currency="JPY", price="1000", sku="JP-2", stock=10)
    third = VariantFactory(product__vendor=shop, product__currency="JPY", price="1000", sku="JP-3", stock=10)
    CouponFactory(code="YEN100", currency="JPY", value="100")

    order = place(buyer, address, (first, 1), (second, 1), (third, 1), codes=["YEN100"])

    shares = [line.platform_discount for line in OrderLine.objects.filter(vendor_order__order=order).order_by("id")]
    assert shares == [Decimal("34"), Decimal("33"), Decimal("33")]
    assert Order.objects.get(pk=order.pk).discount_total == Decimal("100")


def test_category_coupon_covers_the_categorys_descendants_only(buyer, address, shop_a):
    tea_category = make_category("Tea")
    green = make_category("Green tea", parent=tea_category)
    ware = make_category("Teaware")
    green_tea = VariantFactory(product__vendor=shop_a, product__category=green, sku="GREEN-1", price="50.00")
    teapot = VariantFactory(product__vendor=shop_a, product__category=ware, sku="POT-1", price="50.00")
    CouponFactory(vendor=shop_a, code="TEAONLY", value="8.00", categories=[tea_category])

    order = place(buyer, address, (green_tea, 1), (teapot, 1), codes=["TEAONLY"])

    lines = lines_by_sku(order)
    assert lines["GREEN-1"].shop_discount == Decimal("8.00")
    assert lines["POT-1"].shop_discount == Decimal("0.00")


def test_product_coupon_applies_to_that_product_only(buyer, address, shop_a, tea, cup):
    CouponFactory(vendor=shop_a, code="CUPS", value="0.20", products=[cup.product])

    order = place(buyer, address, (tea, 1), (cup, 3), codes=["CUPS"])

    lines = lines_by_sku(order)
    assert (lines["TEA-1"].shop_discount, lines["CUP-1"].shop_discount) == (Decimal("0.00"), Decimal("0.20"))


def test_redemption_takes_a_use_and_is_recorded_on_the_order(buyer, address, shop_a, tea):
    coupon = CouponFactory(vendor=shop_a, code="TEA10", total_limit=3)

    order = place(buyer, address, (tea, 1), codes=["TEA10"])

    coupon.refresh_from_db()
    assert coupon.used_count == 1
    redemption = CouponRedemption.objects.get(coupon=coupon)
    assert (redemption.order_id, redemption.buyer_id, redemption.amount, redemption.released_at) == (
        order.pk,
        buyer.pk,
        Decimal("10.00"),
        None,
    )
    event = OrderEvent.objects.get(order=order, type="placed")
    assert event.data["coupons"] == {"TEA10": "10.00"} and event.data["discount_total"] == "10.00"


# --- Every reason a coupon is refused, and nothing is written ---------------------------------


@pytest.mark.parametrize(
    ("fields", "error", "code"),
    [
        ({"is_active": False}, CouponInactive, "coupon_inactive"),
        ({"valid_from": timezone.now() + timedelta(days=1)}, CouponNotStarted, "coupon_not_started"),
        (
            {"valid_from": timezone.now() - timedelta(days=9), "valid_until": timezone.now() - timedelta(days=1)},
            CouponExpired,
            "coupon_expired",
        ),
        ({"currency": "USD"}, CouponWrongCurrency, "coupon_currency"),
        ({"min_spend": "100.00"}, CouponMinSpendNotReached, "coupon_min_spend"),
        ({"total_limit": 2, "used_count": 2}, CouponLimitReached, "coupon_limit_reached"),
    ],
)
def test_a_coupon_that_cannot_be_used_is_refused_and_nothing_is_written(
    buyer, address, shop_a, tea, fields, error, code
):
    CouponFactory(vendor=shop_a, code="BAD", **fields)
    cart = fill(buyer, (tea, 3))  # 99.90
    before = snapshot()

    with pytest.raises(error) as raised:
        order_place(buyer=buyer, cart=cart, address=address, coupon_codes=["BAD"])

    assert raised.value.code == code and "BAD" in str(raised.value)
    assert snapshot() == before


def test_min_spend_counts_only_eligible_lines_and_says_how_much(buyer, address, shop_a, tea, ball):
    CouponFactory(vendor=shop_a, code="MIN100", min_spend="100.00")

    with pytest.raises(CouponMinSpendNotReached) as raised:
        place(buyer, address, (tea, 3), (ball, 1), codes=["MIN100"])  # 99.90 at Tea House, 120.00 elsewhere

    assert str(raised.value) == "The coupon MIN100 needs ¥100.00 of eligible items; you have ¥99.90."


def test_an_unknown_code_is_refused(buyer, address, tea):
    before_cart = fill(buyer, (tea, 1))
    before = snapshot()
    with pytest.raises(CouponUnknown) as raised:
        order_place(buyer=buyer, cart=before_cart, address=address, coupon_codes=["NOPE"])
    assert str(raised.value) == "There is no coupon NOPE." and raised.value.http_status == 400
    assert snapshot() == before


def test_a_coupon_of_a_shop_not_in_the_cart_is_not_eligible(buyer, address, shop_b, tea):
    CouponFactory(vendor=shop_b, code="PANDA")
    with pytest.raises(CouponNotEligible):
        place(buyer, address, (tea, 1), codes=["PANDA"])
    assert not Order.objects.exists()


def test_a_product_coupon_without_that_product_is_not_eligible(buyer, address, shop_a, tea, cup):
    CouponFactory(vendor=shop_a, code="CUPS", products=[cup.product])
    with pytest.raises(CouponNotEligible):
        place(buyer, address, (tea, 1), codes=["CUPS"])


def test_one_coupon_per_shop_and_one_platform_coupon_per_order(buyer, address, shop_a, tea):
    CouponFactory(vendor=shop_a, code="SHOPA1")
    CouponFactory(vendor=shop_a, code="SHOPA2")
    CouponFactory(code="PLAT1")
    CouponFactory(code="PLAT2")
    cart = fill(buyer, (tea, 3))

    with pytest.raises(CouponConflict):
        order_place(buyer=buyer, cart=cart, address=address, coupon_codes=["SHOPA1", "SHOPA2"])
    with pytest.raises(CouponConflict):
        order_place(buyer=buyer, cart=cart, address=address, coupon_codes=["PLAT1", "PLAT2"])
    order = order_place(buyer=buyer, cart=cart, address=address, coupon_codes=["SHOPA1", "PLAT1"])
    assert Order.objects.get(pk=order.pk).discount_total == Decimal("20.00")


def test_too_many_codes_are_refused(buyer, address, tea):
    with pytest.raises(TooManyCoupons):
        place(buyer, address, (tea, 1), codes=[f"C{n:03d}" for n in range(11)])


def test_the_buyer_limit_counts_earlier_orders(buyer, address, shop_a, tea):
    CouponFactory(vendor=shop_a, code="ONCE", per_buyer_limit=1)
    place(buyer, address, (tea, 1), codes=["ONCE"])

    with pytest.raises(CouponBuyerLimitReached) as raised:
        place(buyer, address, (tea, 1), codes=["ONCE"])

    assert raised.value.http_status == 409
    assert Order.objects.count() == 1


def test_the_same_code_twice_counts_once(buyer, address, shop_a, tea):
    CouponFactory(vendor=shop_a, code="TEA10")
    order = place(buyer, address, (tea, 1), codes=["TEA10", "tea10"])
    assert Order.objects.get(pk=order.pk).discount_total == Decimal("10.00")


# --- Claims ---------------------------------------------------------------------------------


def test_a_claim_only_coupon_is_used_through_the_buyers_claim(buyer, other_buyer, address, shop_a, tea):
    coupon = CouponFactory(vendor=shop_a, code=None, claimable=True, value="3.00")
    token = f"claim:{coupon.pk}"

    with pytest.raises(CouponUnknown):
        place(buyer, address, (tea, 1), codes=[token])  # not claimed yet
    coupon_claim(coupon_id=coupon.pk, user=other_buyer)
    with pytest.raises(CouponUnknown):
        place(buyer, address, (tea, 1), codes=[token])  # someone else's claim does not count

    coupon_claim(coupon_id=coupon.pk, user=buyer)
    order = place(buyer, address, (tea, 1), codes=[token])

    assert Order.objects.get(pk=order.pk).discount_total == Decimal("3.00")
    assert AuditEvent.objects.filter(action="coupon.claimed", actor=buyer, object_id=str(coupon.pk)).exists()


def test_a_coupon_is_claimed_once_per_buyer(buyer, shop_a):
    coupon = CouponFactory(vendor=shop_a, claimable=True)
    coupon_claim(coupon_id=coupon.pk, user=buyer)
    with pytest.raises(DomainError) as raised:
        coupon_claim(coupon_id=coupon.pk, user=buyer)
    assert raised.value.code == "coupon_already_claimed"
    assert CouponClaim.objects.filter(coupon=coupon, user=buyer).count() == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"claimable": False},
        {"claimable": True, "is_active": False},
        {
            "claimable": True,
            "valid_until": timezone.now() - timedelta(minutes=1),
            "valid_from": timezone.now() - timedelta(days=2),
        },
    ],
)
def test_only_claimable_current_shop_coupons_can_be_claimed(buyer, shop_a, fields):
    coupon = CouponFactory(vendor=shop_a, **fields)
    with pytest.raises(DomainError) as raised:
        coupon_claim(coupon_id=coupon.pk, user=buyer)
    assert raised.value.code == "not_found"
    assert not CouponClaim.objects.exists()


def test_a_used_up_coupon_cannot_be_claimed(buyer, shop_a):
    coupon = CouponFactory(vendor=shop_a, claimable=True, total_limit=1, used_count=1)
    with pytest.raises(CouponLimitReached):
        coupon_claim(coupon_id=coupon.pk, user=buyer)


# --- The use comes back when the order does not go ahead ------------------------------------


def test_an_expired_order_gives_its_coupon_use_back(buyer, address, shop_a, tea):
    coupon = CouponFactory(vendor=shop_a, code="ONCE", total_limit=1, per_buyer_limit=1)
    order = place(buyer, address, (tea, 1), codes=["ONCE"])
    assert Coupon.objects.get(pk=coupon.pk).used_count == 1
    later = timezone.now() + timedelta(hours=2)

    assert order_expire(order=Order.objects.get(pk=order.pk), now=later)
    assert not order_expire(order=Order.objects.get(pk=order.pk), now=later)  # twice: once

    coupon.refresh_from_db()
    assert coupon.used_count == 0
    redemption = CouponRedemption.objects.get(order=order)
    assert redemption.released_at == later
    assert OrderEvent.objects.get(order=order, type="expired").data["coupons_released"] == [coupon.pk]
    # The buyer (and the last total use) may use it again.
    again = place(buyer, address, (tea, 1), codes=["ONCE"])
    assert Order.objects.get(pk=again.pk).discount_total == Decimal("10.00")


def test_a_cancelled_order_gives_its_coupon_uses_back(buyer, address, shop_a, tea):
    shop_coupon = CouponFactory(vendor=shop_a, code="SHOP", total_limit=5)
    platform_coupon = CouponFactory(code="PLAT", total_limit=5)
    order = place(buyer, address, (tea, 3), codes=["SHOP", "PLAT"])

    order_cancel_by_buyer(order=Order.objects.get(pk=order.pk), actor=buyer)

    assert sorted(Coupon.objects.values_list("pk", "used_count")) == sorted(
        [(shop_coupon.pk, 0), (platform_coupon.pk, 0)]
    )
    assert not CouponRedemption.objects.filter(order=order, released_at__isnull=True).exists()
