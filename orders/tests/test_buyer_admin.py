"""The orders admin: every list, search and detail page opens for an admin (no 500s), and the
expiry action runs the same service as the sweep."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.tests.factories import VariantFactory
from orders.models import Address, Cart, Order, OrderEvent, VendorOrder
from orders.services.cart import cart_add_line, cart_get_or_create
from orders.services.checkout import order_place
from orders.tests.factories import AddressFactory


@pytest.fixture
def order(buyer, shop_a):
    cart = cart_get_or_create(user=buyer, session_key=None)
    cart_add_line(cart=cart, variant_id=VariantFactory(product__vendor=shop_a).pk, quantity=1)
    return order_place(buyer=buyer, cart=cart, address=AddressFactory(user=buyer))


@pytest.mark.parametrize("model", [Order, VendorOrder, Cart, Address, OrderEvent])
def test_admin_lists_and_details_open(client, admin_user, order, buyer, model):
    cart_get_or_create(user=buyer, session_key=None)
    client.force_login(admin_user)
    base = f"/admin/orders/{model._meta.model_name}/"
    assert client.get(base).status_code == 200
    assert client.get(base, {"q": order.number[:8]}).status_code == 200
    assert client.get(f"{base}{model.objects.first().pk}/change/").status_code == 200


def test_admin_order_search_by_buyer_email(client, admin_user, order):
    client.force_login(admin_user)
    html = client.get("/admin/orders/order/", {"q": "buyer@example.com"}).content.decode()
    assert order.number in html


def test_admin_expire_action(client, admin_user, order):
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    client.force_login(admin_user)
    response = client.post(
        "/admin/orders/order/", {"action": "expire_due_now", "_selected_action": [order.pk]}, follow=True
    )
    assert "1 order(s) expired." in response.content.decode()
    assert Order.objects.get().status == Order.Status.CANCELLED


def test_admin_completes_delivered_shop_orders(client, admin_user, order):
    part = order.vendor_orders.get()
    VendorOrder.objects.filter(pk=part.pk).update(status=VendorOrder.Status.DELIVERED, delivered_at=timezone.now())
    client.force_login(admin_user)
    response = client.post(
        "/admin/orders/vendororder/", {"action": "complete_delivered", "_selected_action": [part.pk]}, follow=True
    )
    assert "1 shop order(s) completed." in response.content.decode()
    part.refresh_from_db()
    assert part.status == VendorOrder.Status.COMPLETED
