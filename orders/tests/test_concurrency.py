"""50 buyers in 50 threads, each on its own database connection, race for 10 units: exactly 10
orders, stock 0, 40 clear out-of-stock answers, nothing half-written."""

import threading

import pytest
from django.conf import settings
from django.db import connection

from catalog.models import Product, ProductVariant
from catalog.tests.factories import VariantFactory
from marketplace.errors import OutOfStock
from marketplace.models import User
from orders.models import CartLine, Order, OrderLine, VendorOrder
from orders.services.cart import cart_add_line, cart_get_or_create
from orders.services.checkout import order_expire, order_place
from orders.tests.factories import AddressFactory

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not settings.USES_POSTGRES, reason="row locks and parallel connections need PostgreSQL"),
]

BUYERS = 50
STOCK = 10


def _run_in_threads(count: int, work) -> list:
    """Runs work(index) in `count` threads released together; returns what each returned or raised."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except Exception as error:  # collected and asserted on by the test
            results[index] = error
        finally:
            connection.close()  # each thread had its own connection; don't leak it

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.django_db(transaction=True)
def test_fifty_buyers_race_for_ten_units(shop_a):
    variant = VariantFactory(
        product__vendor=shop_a, sku="HOT-1", price="19.90", stock=STOCK, product__total_stock=STOCK
    )
    buyers = []
    for index in range(BUYERS):
        # No password: hashing 50 of them would take most of the test's time.
        buyer = User.objects.create(email=f"racer{index}@example.com")
        cart = cart_get_or_create(user=buyer, session_key=None)
        cart_add_line(cart=cart, variant_id=variant.pk, quantity=1)
        buyers.append((buyer, cart, AddressFactory(user=buyer)))

    def place(index: int):
        buyer, cart, address = buyers[index]
        return order_place(buyer=buyer, cart=cart, address=address, shipping_choices={})

    results = _run_in_threads(BUYERS, place)

    placed = [result for result in results if isinstance(result, Order)]
    refused = [result for result in results if isinstance(result, OutOfStock)]
    assert len(placed) == STOCK, [r for r in results if not isinstance(r, Order | OutOfStock)]
    assert len(refused) == BUYERS - STOCK
    assert all(str(error).startswith("Not enough stock for HOT-1: 0 left") for error in refused)

    variant.refresh_from_db()
    assert variant.stock == 0
    assert Product.objects.get(pk=variant.product_id).total_stock == 0
    assert Order.objects.count() == STOCK
    assert VendorOrder.objects.count() == STOCK
    assert OrderLine.objects.count() == STOCK
    assert sum(OrderLine.objects.values_list("quantity", flat=True)) == STOCK
    assert not VendorOrder.objects.filter(lines__isnull=True).exists()
    assert not Order.objects.filter(vendor_orders__isnull=True).exists()
    # The winners' carts are empty; the 40 others still hold their line.
    assert CartLine.objects.count() == BUYERS - STOCK


@pytest.mark.django_db(transaction=True)
def test_concurrent_expiry_returns_stock_once(buyer, shop_a):
    from datetime import timedelta

    from django.utils import timezone

    variant = VariantFactory(product__vendor=shop_a, stock=5, product__total_stock=5)
    cart = cart_get_or_create(user=buyer, session_key=None)
    cart_add_line(cart=cart, variant_id=variant.pk, quantity=3)
    order = order_place(buyer=buyer, cart=cart, address=AddressFactory(user=buyer))
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    results = _run_in_threads(8, lambda _index: order_expire(order=Order.objects.get(pk=order.pk)))

    assert sorted(results, key=str) == [False] * 7 + [True]
    assert ProductVariant.objects.get(pk=variant.pk).stock == 5
    assert Product.objects.get(pk=variant.product_id).total_stock == 5
