"""The checkout page: address book, a shipping choice per shop with its quote, totals, and
"Place order and pay" leading to the payment page."""

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import ProductVariant
from catalog.tests.factories import VariantFactory
from orders.models import Address, CartLine, Order
from orders.services.cart import cart_add_line, cart_get_or_create
from orders.tests.factories import AddressFactory
from vendors.tests.factories import ShippingTemplateFactory


@pytest.fixture
def tea(shop_a):
    return VariantFactory(product__vendor=shop_a, product__title="Longjing green tea", sku="TEA-1", price="45.00")


@pytest.fixture
def ball(shop_b):
    return VariantFactory(product__vendor=shop_b, product__title="Basketball", sku="BALL-1", price="120.00")


@pytest.fixture
def filled_cart(buyer, tea, ball):
    cart = cart_get_or_create(user=buyer, session_key=None)
    cart_add_line(cart=cart, variant_id=tea.pk, quantity=1)
    cart_add_line(cart=cart, variant_id=ball.pk, quantity=1)
    return cart


@pytest.fixture
def signed_in(client, buyer):
    client.force_login(buyer)
    return client


def test_checkout_needs_a_login(client):
    response = client.get("/checkout/")
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(signed_in):
    response = signed_in.get("/checkout/", follow=True)
    assert response.redirect_chain[-1][0] == "/cart/"
    assert "Your cart is empty." in response.content.decode()


def test_checkout_shows_each_shop_with_its_shipping_quote_and_totals(signed_in, buyer, filled_cart, shop_b):
    AddressFactory(user=buyer, recipient="Li Lei", region="浙江省")
    ShippingTemplateFactory(vendor=shop_b, name="Express", base_fee="25.00", free_over=None, is_default=False)
    html = signed_in.get("/checkout/").content.decode()
    assert html.count('data-testid="checkout-shop"') == 2
    assert "Standard — ¥10.00" in html  # Tea House: 45.00 is under its 99.00 free line
    assert "Standard — ¥12.00" in html and "Express — ¥25.00" in html
    assert "¥187.00" in html  # 45 + 10 + 120 + 12
    assert 'data-testid="place-order"' in html


def test_choosing_another_template_changes_the_totals(signed_in, buyer, filled_cart, shop_b):
    address = AddressFactory(user=buyer)
    express = ShippingTemplateFactory(vendor=shop_b, name="Express", base_fee="25.00", free_over=None, is_default=False)
    html = signed_in.get(f"/checkout/?address={address.pk}&shipping-{shop_b.pk}={express.pk}").content.decode()
    assert "¥200.00" in html


def test_shop_that_cannot_deliver_there_is_explained(signed_in, buyer, filled_cart, shop_b):
    shop_b.shipping_templates.update(excluded_regions=["新疆维吾尔自治区"])
    AddressFactory(user=buyer, region="新疆")
    html = signed_in.get("/checkout/").content.decode()
    assert "Panda Sports does not deliver to 新疆." in html
    assert 'data-testid="place-order"' not in html


def test_excluded_template_is_not_offered(signed_in, buyer, filled_cart, shop_b):
    ShippingTemplateFactory(
        vendor=shop_b, name="Cheap", base_fee="1.00", free_over=None, is_default=False, excluded_regions=["浙江"]
    )
    AddressFactory(user=buyer, region="浙江省")
    html = signed_in.get("/checkout/").content.decode()
    assert "Cheap" not in html and "Standard — ¥12.00" in html


def test_without_an_address_the_buyer_is_asked_for_one(signed_in, filled_cart):
    html = signed_in.get("/checkout/").content.decode()
    assert "Add a delivery address to place your order." in html
    assert 'data-testid="place-order"' not in html


def test_placing_the_order_leads_to_the_payment_page(signed_in, buyer, filled_cart, shop_a, shop_b):
    address = AddressFactory(user=buyer)
    response = signed_in.post(
        "/checkout/", {"address": address.pk, f"shipping-{shop_b.pk}": shop_b.shipping_templates.get().pk}
    )
    order = Order.objects.get(buyer=buyer)
    assert response.status_code == 302
    assert response.url == f"/payments/start/{order.number}/"
    assert order.grand_total == Decimal("187.00")
    assert order.vendor_orders.count() == 2
    assert not CartLine.objects.exists()


def test_out_of_stock_at_placing_comes_back_as_a_message(signed_in, buyer, filled_cart, ball):
    address = AddressFactory(user=buyer)
    ProductVariant.objects.filter(pk=ball.pk).update(stock=0)
    response = signed_in.post("/checkout/", {"address": address.pk}, follow=True)
    assert response.status_code == 200
    assert "Not enough stock for BALL-1: 0 left, 1 requested." in response.content.decode()
    assert not Order.objects.exists()


def test_someone_elses_address_is_not_used(signed_in, buyer, other_buyer, filled_cart):
    foreign = AddressFactory(user=other_buyer, recipient="Han Meimei")
    response = signed_in.post("/checkout/", {"address": foreign.pk}, follow=True)
    assert "Choose a delivery address." in response.content.decode()
    assert not Order.objects.exists()


def test_add_address_from_checkout_comes_back_with_it_selected(signed_in, buyer, filled_cart):
    data = {
        "recipient": "Li Lei",
        "phone": "138 0000 0000",
        "country": "cn",
        "region": "上海市",
        "city": "上海",
        "district": "",
        "street": "南京东路 1 号",
        "postal_code": "200000",
    }
    response = signed_in.post(f"{reverse('orders:address_create')}?next=/checkout/", {**data, "next": "/checkout/"})
    address = Address.objects.get(user=buyer)
    assert response.url == f"/checkout/?address={address.pk}"
    assert address.country == "CN" and address.is_default


def test_address_book_crud(signed_in, buyer, other_buyer):
    first = AddressFactory(user=buyer, recipient="Home")
    second = AddressFactory(user=buyer, recipient="Office", is_default=False)
    foreign = AddressFactory(user=other_buyer, recipient="Not mine")
    html = signed_in.get("/addresses/").content.decode()
    assert "Home" in html and "Office" in html and "Not mine" not in html

    assert signed_in.get(f"/addresses/{foreign.pk}/").status_code == 404
    assert signed_in.post(f"/addresses/{foreign.pk}/delete/").status_code == 404

    response = signed_in.post(
        f"/addresses/{second.pk}/",
        {"recipient": "Office", "phone": "021-1234567", "country": "CN", "region": "上海市", "city": "上海",
         "street": "1 Road", "is_default": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    assert list(Address.objects.filter(user=buyer, is_default=True)) == [second]

    bad = signed_in.post(f"/addresses/{second.pk}/", {"recipient": "", "phone": "call me", "country": "China"})
    assert bad.status_code == 200 and "Enter a phone number" in bad.content.decode()

    signed_in.post(f"/addresses/{second.pk}/delete/")
    first.refresh_from_db()
    assert first.is_default and Address.objects.filter(user=buyer).count() == 1


def test_a_foreign_address_is_refused_even_when_the_buyer_has_one(signed_in, buyer, other_buyer, filled_cart):
    AddressFactory(user=buyer)
    response = signed_in.post("/checkout/", {"address": AddressFactory(user=other_buyer).pk}, follow=True)
    assert "Choose a delivery address." in response.content.decode()
    assert not Order.objects.exists()
