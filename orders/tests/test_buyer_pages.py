"""The buyer's order history and order detail: each shop's part, pay now, cancel, confirm
receipt; and nobody else's orders."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.tests.factories import VariantFactory
from orders.models import Order, VendorOrder
from orders.services.cart import cart_add_line, cart_get_or_create
from orders.services.checkout import order_place
from orders.tests.factories import AddressFactory


def _place(buyer, *variants):
    cart = cart_get_or_create(user=buyer, session_key=None)
    for variant in variants:
        cart_add_line(cart=cart, variant_id=variant.pk, quantity=1)
    return order_place(buyer=buyer, cart=cart, address=AddressFactory(user=buyer))


@pytest.fixture
def order(buyer, shop_a, shop_b):
    return _place(
        buyer,
        VariantFactory(product__vendor=shop_a, product__title="Longjing green tea", sku="TEA-1"),
        VariantFactory(product__vendor=shop_b, product__title="Basketball", sku="BALL-1"),
    )


@pytest.fixture
def signed_in(client, buyer):
    client.force_login(buyer)
    return client


def test_order_detail_shows_each_shops_part_and_pay_now(signed_in, order):
    html = signed_in.get(f"/orders/{order.number}/").content.decode()
    assert html.count('data-testid="vendor-order"') == 2
    assert "Tea House" in html and "Panda Sports" in html
    assert "Longjing green tea" in html and "BALL-1" in html
    assert f'href="/payments/start/{order.number}/"' in html
    assert "Awaiting payment" in html


def test_no_pay_now_after_the_deadline(signed_in, order):
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    html = signed_in.get(f"/orders/{order.number}/").content.decode()
    assert 'data-testid="pay-now"' not in html


def test_another_buyers_order_is_not_found(client, other_buyer, order):
    client.force_login(other_buyer)
    assert client.get(f"/orders/{order.number}/").status_code == 404
    assert client.post(f"/orders/{order.number}/cancel/").status_code == 404
    part = order.vendor_orders.first()
    assert client.post(f"/orders/{order.number}/parts/{part.number}/confirm-receipt/").status_code == 404
    assert order.number not in client.get("/orders/").content.decode()
    assert Order.objects.get().status == Order.Status.PENDING_PAYMENT


def test_order_pages_need_a_login(client, order):
    assert client.get(f"/orders/{order.number}/").status_code == 302
    assert client.get("/orders/").status_code == 302


def test_order_history_is_paginated(signed_in, buyer, shop_a):
    variant = VariantFactory(product__vendor=shop_a, stock=50)
    numbers = [_place(buyer, variant).number for _ in range(12)]
    first = signed_in.get("/orders/").content.decode()
    second = signed_in.get("/orders/?page=2").content.decode()
    assert first.count('data-testid="order-row"') == 10 and second.count('data-testid="order-row"') == 2
    assert numbers[-1] in first and numbers[0] in second


def test_order_history_runs_a_fixed_number_of_queries(signed_in, buyer, shop_a, django_assert_max_num_queries):
    variant = VariantFactory(product__vendor=shop_a, stock=50)
    for _ in range(8):
        _place(buyer, variant)
    with django_assert_max_num_queries(7):
        signed_in.get("/orders/")


def test_buyer_cancels_an_unpaid_order_from_the_page(signed_in, order):
    response = signed_in.post(f"/orders/{order.number}/cancel/", follow=True)
    assert "Your order was cancelled." in response.content.decode()
    assert Order.objects.get().status == Order.Status.CANCELLED


def test_buyer_confirms_receipt_of_a_shipped_part(signed_in, order):
    part = order.vendor_orders.get(vendor__name="Tea House")
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)
    VendorOrder.objects.filter(order=order).update(status=VendorOrder.Status.PAID)
    VendorOrder.objects.filter(pk=part.pk).update(
        status=VendorOrder.Status.SHIPPED,
        carrier="SF Express",
        tracking_number="SF123456789",
        shipped_at=timezone.now(),
    )
    html = signed_in.get(f"/orders/{order.number}/").content.decode()
    assert "SF123456789" in html
    assert html.count('data-testid="confirm-receipt"') == 1  # only the shipped part

    response = signed_in.post(f"/orders/{order.number}/parts/{part.number}/confirm-receipt/", follow=True)
    assert response.status_code == 200
    part.refresh_from_db()
    assert part.status == VendorOrder.Status.DELIVERED
    # The other part was not shipped: confirming it is refused with a message, nothing changes.
    other = order.vendor_orders.exclude(pk=part.pk).get()
    signed_in.post(f"/orders/{order.number}/parts/{other.number}/confirm-receipt/", follow=True)
    other.refresh_from_db()
    assert other.status == VendorOrder.Status.PAID
