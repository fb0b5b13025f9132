"""The buyer API: cart, addresses and orders, with JSON errors {"message", "code"}."""

from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.models import Product, ProductVariant
from catalog.tests.factories import VariantFactory
from orders.models import Address, CartLine, Order, OrderLine, VendorOrder
from orders.tests.factories import AddressFactory
from vendors.tests.factories import ShippingTemplateFactory


@pytest.fixture
def api(buyer):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=buyer).key}")
    return client


@pytest.fixture
def other_api(other_buyer):
    client = APIClient()
    client.force_authenticate(other_buyer)
    return client


@pytest.fixture
def tea(shop_a):
    return VariantFactory(
        product__vendor=shop_a, product__title="Longjing green tea", sku="TEA-1", price="45.00", stock=5
    )


@pytest.fixture
def ball(shop_b):
    return VariantFactory(product__vendor=shop_b, product__title="Basketball", sku="BALL-1", price="120.00", stock=3)


@pytest.fixture
def address(buyer):
    return AddressFactory(user=buyer)


def test_cart_api_needs_authentication(tea):
    response = APIClient().get("/api/v1/cart/")
    assert response.status_code in (401, 403)
    assert "message" in response.json()


def test_add_lines_and_read_the_cart_grouped_by_shop(api, tea, ball):
    assert api.get("/api/v1/cart/").json()["shops"] == []
    response = api.post("/api/v1/cart/lines/", {"variant": tea.pk, "quantity": 2}, format="json")
    assert response.status_code == 201
    api.post("/api/v1/cart/lines/", {"variant": ball.pk}, format="json")

    cart = api.get("/api/v1/cart/").json()
    assert cart["items_total"] == "210.00" and cart["item_count"] == 3
    assert [(shop["vendor"]["name"], shop["subtotal"]) for shop in cart["shops"]] == [
        ("Panda Sports", "120.00"),
        ("Tea House", "90.00"),
    ]
    line = cart["shops"][1]["lines"][0]
    assert (line["sku"], line["quantity"], line["unit_price"], line["price_changed"]) == ("TEA-1", 2, "45.00", False)


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"variant": "TEA", "quantity": -1}, 400, "invalid_quantity"),
        ({"variant": "TEA", "quantity": 0}, 400, "invalid_quantity"),
        ({"variant": "TEA", "quantity": 10**12}, 400, "invalid_quantity"),
        ({"variant": "TEA", "quantity": "abc"}, 400, "invalid_quantity"),
        ({"variant": "TEA", "quantity": 1.5}, 400, "invalid_quantity"),
        ({"variant": "TEA", "quantity": 6}, 409, "out_of_stock"),
        ({"variant": 999999, "quantity": 1}, 404, "not_found"),
        ({"variant": "abc", "quantity": 1}, 404, "not_found"),
        ({"quantity": 1}, 404, "not_found"),
    ],
)
def test_bad_cart_lines_get_clear_json_errors(api, tea, body, status, code):
    if body.get("variant") == "TEA":
        body["variant"] = tea.pk
    response = api.post("/api/v1/cart/lines/", body, format="json")
    assert response.status_code == status
    assert response.json()["code"] == code and response.json()["message"]
    assert not CartLine.objects.exists()


def test_banned_product_is_unavailable(api, tea):
    Product.objects.filter(pk=tea.product_id).update(is_banned=True)
    response = api.post("/api/v1/cart/lines/", {"variant": tea.pk}, format="json")
    assert response.status_code == 409
    assert response.json() == {"message": "Longjing green tea Default is no longer available.", "code": "unavailable"}


def test_change_and_remove_a_line(api, other_api, tea):
    api.post("/api/v1/cart/lines/", {"variant": tea.pk}, format="json")
    line_id = CartLine.objects.get().pk
    assert api.patch(f"/api/v1/cart/lines/{line_id}/", {"quantity": 4}, format="json").status_code == 200
    assert CartLine.objects.get().quantity == 4
    assert api.patch(f"/api/v1/cart/lines/{line_id}/", {"quantity": 9}, format="json").json()["code"] == "out_of_stock"
    # Another buyer cannot touch it.
    assert other_api.patch(f"/api/v1/cart/lines/{line_id}/", {"quantity": 1}, format="json").status_code == 404
    assert other_api.delete(f"/api/v1/cart/lines/{line_id}/").status_code == 404
    assert api.delete(f"/api/v1/cart/lines/{line_id}/").status_code == 204
    assert not CartLine.objects.exists()


def test_address_crud_is_private(api, other_api, buyer):
    response = api.post(
        "/api/v1/addresses/",
        {"recipient": "Li Lei", "phone": "13800000000", "country": "cn", "region": "北京市", "city": "北京",
         "street": "长安街 1 号"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201
    address_id = response.json()["id"]
    assert response.json()["country"] == "CN" and response.json()["is_default"] is True
    assert api.get("/api/v1/addresses/").json()["count"] == 1
    assert other_api.get("/api/v1/addresses/").json()["count"] == 0
    assert other_api.get(f"/api/v1/addresses/{address_id}/").status_code == 404
    assert other_api.delete(f"/api/v1/addresses/{address_id}/").status_code == 404
    assert api.patch(f"/api/v1/addresses/{address_id}/", {"city": "Beijing"}, format="json").json()["city"] == "Beijing"
    assert api.post("/api/v1/addresses/", {"recipient": ""}, format="json").status_code == 400
    assert api.delete(f"/api/v1/addresses/{address_id}/").status_code == 204
    assert not Address.objects.exists()


def test_place_order_returns_number_totals_and_payment_url(api, address, tea, ball, shop_b):
    express = ShippingTemplateFactory(vendor=shop_b, name="Express", base_fee="30.00", free_over=None, is_default=False)
    api.post("/api/v1/cart/lines/", {"variant": tea.pk, "quantity": 3}, format="json")
    api.post("/api/v1/cart/lines/", {"variant": ball.pk, "quantity": 1}, format="json")

    response = api.post(
        "/api/v1/orders/", {"address": address.pk, "shipping": {str(shop_b.pk): express.pk}}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    order = Order.objects.get()
    assert body["number"] == order.number
    assert (body["items_total"], body["shipping_total"], body["grand_total"]) == ("255.00", "30.00", "285.00")
    assert body["payment_url"] == f"/payments/start/{order.number}/"
    assert body["status"] == "pending_payment"
    parts = {part["vendor"]["name"]: part for part in body["vendor_orders"]}
    assert parts["Panda Sports"]["shipping_method"] == "Express"
    assert parts["Tea House"]["total"] == "135.00"  # over 99.00: free shipping
    assert parts["Tea House"]["lines"][0]["unit_price"] == "45.00"
    assert api.get("/api/v1/cart/").json()["shops"] == []


def test_place_order_uses_each_shops_default_template(api, address, ball):
    api.post("/api/v1/cart/lines/", {"variant": ball.pk}, format="json")
    body = api.post("/api/v1/orders/", {"address": address.pk}, format="json").json()
    assert body["shipping_total"] == "12.00"


def test_out_of_stock_is_409_and_writes_nothing(api, address, tea):
    api.post("/api/v1/cart/lines/", {"variant": tea.pk, "quantity": 5}, format="json")
    ProductVariant.objects.filter(pk=tea.pk).update(stock=4)
    response = api.post("/api/v1/orders/", {"address": address.pk}, format="json")
    assert response.status_code == 409
    assert response.json() == {"message": "Not enough stock for TEA-1: 4 left, 5 requested.", "code": "out_of_stock"}
    assert (Order.objects.count(), VendorOrder.objects.count(), OrderLine.objects.count()) == (0, 0, 0)
    assert ProductVariant.objects.get(pk=tea.pk).stock == 4


@pytest.mark.parametrize(
    "body, status",
    [({}, 400), ({"address": "x"}, 400), ({"address": 999999}, 404), ({"address": "ADDR", "shipping": "x"}, 400)],
)
def test_bad_order_requests(api, address, tea, body, status):
    api.post("/api/v1/cart/lines/", {"variant": tea.pk}, format="json")
    if body.get("address") == "ADDR":
        body["address"] = address.pk
    response = api.post("/api/v1/orders/", body, format="json")
    assert response.status_code == status and response.json()["message"]
    assert not Order.objects.exists()


def test_empty_cart_cannot_be_ordered(api, address):
    response = api.post("/api/v1/orders/", {"address": address.pk}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "cart_empty"


def test_another_buyers_address_cannot_be_used(api, other_buyer, tea):
    api.post("/api/v1/cart/lines/", {"variant": tea.pk}, format="json")
    response = api.post("/api/v1/orders/", {"address": AddressFactory(user=other_buyer).pk}, format="json")
    assert response.status_code == 404
    assert not Order.objects.exists()


def test_orders_are_private(api, other_api, address, tea):
    api.post("/api/v1/cart/lines/", {"variant": tea.pk}, format="json")
    number = api.post("/api/v1/orders/", {"address": address.pk}, format="json").json()["number"]

    listing = api.get("/api/v1/orders/").json()
    assert listing["count"] == 1 and listing["results"][0]["number"] == number
    detail = api.get(f"/api/v1/orders/{number}/").json()
    assert detail["grand_total"] == "55.00" and detail["shipping_address"]["recipient"] == "Li Lei"

    assert other_api.get("/api/v1/orders/").json()["count"] == 0
    response = other_api.get(f"/api/v1/orders/{number}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert other_api.post(f"/api/v1/orders/{number}/cancel/").status_code == 404
    assert Order.objects.get().status == Order.Status.PENDING_PAYMENT


def test_buyer_cancels_by_api(api, address, tea):
    api.post("/api/v1/cart/lines/", {"variant": tea.pk, "quantity": 2}, format="json")
    number = api.post("/api/v1/orders/", {"address": address.pk}, format="json").json()["number"]
    assert ProductVariant.objects.get(pk=tea.pk).stock == 3
    response = api.post(f"/api/v1/orders/{number}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert response.json()["payment_url"] is None
    assert ProductVariant.objects.get(pk=tea.pk).stock == 5
    assert api.post(f"/api/v1/orders/{number}/cancel/").json()["code"] == "invalid_transition"


@pytest.mark.parametrize("line_count", [2, 12])
def test_cart_api_runs_a_fixed_number_of_queries(api, line_count, django_assert_max_num_queries):
    for _ in range(line_count):
        api.post("/api/v1/cart/lines/", {"variant": VariantFactory().pk}, format="json")
    with django_assert_max_num_queries(4):
        response = api.get("/api/v1/cart/")
    assert sum(len(shop["lines"]) for shop in response.json()["shops"]) == line_count


def test_order_list_api_runs_a_fixed_number_of_queries(api, address, shop_a, django_assert_max_num_queries):
    variant = VariantFactory(product__vendor=shop_a, stock=50, price="1.00")
    for _ in range(6):
        api.post("/api/v1/cart/lines/", {"variant": variant.pk}, format="json")
        api.post("/api/v1/orders/", {"address": address.pk}, format="json")
    with django_assert_max_num_queries(5):
        response = api.get("/api/v1/orders/")
    assert response.json()["count"] == 6
    assert Decimal(response.json()["results"][0]["grand_total"]) == Decimal("11.00")


def test_orders_can_be_filtered_by_status(api, address, tea):
    for _ in range(2):
        api.post("/api/v1/cart/lines/", {"variant": tea.pk}, format="json")
        number = api.post("/api/v1/orders/", {"address": address.pk}, format="json").json()["number"]
    api.post(f"/api/v1/orders/{number}/cancel/")
    cancelled = api.get("/api/v1/orders/", {"status": "cancelled"}).json()
    assert [order["number"] for order in cancelled["results"]] == [number]
    assert api.get("/api/v1/orders/", {"status": "pending_payment"}).json()["count"] == 1
    bad = api.get("/api/v1/orders/", {"status": "lost"})
    assert bad.status_code == 400 and "status" in bad.json()["message"]
