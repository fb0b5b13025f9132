"""Coupon limits under real concurrency: buyers in parallel threads, each on its own PostgreSQL
connection, race for a coupon. The total limit and the per-buyer limit are never exceeded, and
the losers' orders are not written at all."""

import threading
from collections import Counter

import pytest
from django.conf import settings
from django.db import connection

from catalog.models import ProductVariant
from catalog.tests.factories import VariantFactory
from marketplace.models import User
from orders.models import Coupon, CouponRedemption, Order
from orders.services.cart import cart_add_line, cart_get_or_create
from orders.services.checkout import order_place
from orders.services.coupons import CouponBuyerLimitReached, CouponLimitReached
from orders.tests.coupon_factories import CouponFactory
from orders.tests.factories import AddressFactory

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not settings.USES_POSTGRES, reason="row locks and parallel connections need PostgreSQL"),
]


def _race(count: int, work) -> list:
    """Runs work(index) in `count` threads released together; what each returned or raised."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except Exception as error:  # collected and asserted on by the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


def _buyer_with_cart(index: int, variant) -> tuple:
    buyer = User.objects.create(email=f"coupon.racer{index}@example.com")
    cart = cart_get_or_create(user=buyer, session_key=None)
    cart_add_line(cart=cart, variant_id=variant.pk, quantity=1)
    return buyer, cart, AddressFactory(user=buyer)


@pytest.mark.django_db(transaction=True)
def test_twenty_orders_race_for_five_uses_and_exactly_five_get_the_coupon(shop_a):
    """Ten buyers, two simultaneous orders each, for a coupon of 5 uses, one per buyer."""
    variant = VariantFactory(product__vendor=shop_a, sku="HOT-1", price="50.00", stock=100)
    coupon = CouponFactory(vendor=shop_a, code="FIRST5", value="5.00", total_limit=5, per_buyer_limit=1)
    buyers = [_buyer_with_cart(index, variant) for index in range(10)]

    def place(index: int):
        buyer, cart, address = buyers[index % 10]
        return order_place(buyer=buyer, cart=cart, address=address, coupon_codes=["FIRST5"])

    results = _race(20, place)

    placed = [result for result in results if isinstance(result, Order)]
    refused = [result for result in results if isinstance(result, CouponLimitReached | CouponBuyerLimitReached)]
    assert len(placed) == 5, [r for r in results if not isinstance(r, Order | CouponLimitReached)]
    assert len(placed) + len(refused) == 20
    coupon.refresh_from_db()
    assert coupon.used_count == 5
    redemptions = list(CouponRedemption.objects.filter(coupon=coupon))
    assert len(redemptions) == 5
    assert max(Counter(redemption.buyer_id for redemption in redemptions).values()) == 1
    # The refused orders left nothing behind: five orders, five units sold.
    assert Order.objects.count() == 5
    assert ProductVariant.objects.get(pk=variant.pk).stock == 95


@pytest.mark.django_db(transaction=True)
def test_one_buyer_racing_eight_orders_gets_the_coupon_only_as_often_as_allowed(shop_a):
    variant = VariantFactory(product__vendor=shop_a, sku="HOT-2", price="50.00", stock=100)
    coupon = CouponFactory(vendor=shop_a, code="TWICE", value="5.00", total_limit=None, per_buyer_limit=2)
    buyer, cart, address = _buyer_with_cart(0, variant)

    def place(index: int):
        return order_place(buyer=buyer, cart=cart, address=address, coupon_codes=["TWICE"])

    results = _race(8, place)

    placed = [result for result in results if isinstance(result, Order)]
    assert len(placed) == 2, results
    assert all(isinstance(result, Order | CouponBuyerLimitReached) for result in results), results
    assert Coupon.objects.get(pk=coupon.pk).used_count == 2
    assert CouponRedemption.objects.filter(coupon=coupon, buyer=buyer).count() == 2
