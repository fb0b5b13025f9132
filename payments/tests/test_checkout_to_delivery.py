"""The whole story through the real services: checkout, sandbox payment delivered over HTTP,
each shop ships its part, the buyer confirms receipt."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.models import Product
from catalog.tests.factories import VariantFactory
from orders.models import Order, VendorOrder
from orders.services.cart import cart_add_line, cart_get_or_create
from orders.services.checkout import order_place
from orders.tests.factories import AddressFactory
from payments.models import Payment
from payments.tests.helpers import press, start_payment


@pytest.mark.django_db(transaction=True)
def test_placed_order_is_paid_in_the_sandbox_shipped_and_received(
    live_server, settings, buyer, shop_a, shop_b, owner_a, owner_b
):
    settings.SITE_URL = live_server.url
    tea = VariantFactory(product__vendor=shop_a, product__title="Longjing green tea", price="60.00", stock=5)
    ball = VariantFactory(product__vendor=shop_b, product__title="Basketball", price="120.00", stock=5)
    cart = cart_get_or_create(user=buyer, session_key=None)
    cart_add_line(cart=cart, variant_id=tea.pk, quantity=2)
    cart_add_line(cart=cart, variant_id=ball.pk, quantity=1)
    order = order_place(buyer=buyer, cart=cart, address=AddressFactory(user=buyer), shipping_choices={})
    buyer_client = Client()
    buyer_client.force_login(buyer)

    payment, charge = start_payment(buyer_client, order)
    press(buyer_client, charge, "pay")

    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED and payment.amount == order.grand_total
    assert order.status == Order.Status.PAID
    assert Product.objects.get(pk=tea.product_id).sold_count == 2

    for owner, shop in ((owner_a, shop_a), (owner_b, shop_b)):
        part = order.vendor_orders.get(vendor=shop)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner).key}")
        shipped = api.post(
            f"/api/v1/vendor/orders/{part.number}/ship/",
            {"carrier": "SF", "tracking_number": f"SF-{shop.pk}"},
            format="json",
        )
        assert shipped.status_code == 200, shipped.content
        buyer_client.post(f"/orders/{order.number}/parts/{part.number}/confirm-receipt/")

    assert set(order.vendor_orders.values_list("status", flat=True)) == {VendorOrder.Status.DELIVERED}
