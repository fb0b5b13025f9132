"""/api/v1/vendor/orders/: the shop's own orders, read and shipped by program."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from orders.models import VendorOrder
from orders.services.fulfilment import order_mark_paid
from orders.tests.fulfilment_factories import order_for

pytestmark = pytest.mark.django_db
VO = VendorOrder.Status


def api_as(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def order(buyer, shop_a, shop_b):
    order = order_for(buyer=buyer, vendors=[shop_a, shop_b], quantity=2)
    order_mark_paid(order=order, payment_reference="PAY-API")
    return order


@pytest.fixture
def ours(order, shop_a):
    return order.vendor_orders.get(vendor=shop_a)


@pytest.fixture
def theirs(order, shop_b):
    return order.vendor_orders.get(vendor=shop_b)


def test_list_shows_only_my_shops_orders_with_lines(owner_a, buyer, shop_a, ours, theirs):
    order_for(buyer=buyer, vendors=[shop_a])  # unpaid

    response = api_as(owner_a).get("/api/v1/vendor/orders/")

    assert response.status_code == 200
    numbers = [row["number"] for row in response.json()["results"]]
    assert ours.number in numbers and theirs.number not in numbers and len(numbers) == 2
    row = next(row for row in response.json()["results"] if row["number"] == ours.number)
    assert row["total"] == "110.00" and row["units"] == 2 and row["lines"][0]["quantity"] == 2


def test_list_filters_by_status(owner_a, buyer, shop_a, ours):
    order_for(buyer=buyer, vendors=[shop_a])

    paid = api_as(owner_a).get("/api/v1/vendor/orders/?status=paid").json()
    unpaid = api_as(owner_a).get("/api/v1/vendor/orders/?status=pending_payment").json()
    bad = api_as(owner_a).get("/api/v1/vendor/orders/?status=lost")

    assert [row["number"] for row in paid["results"]] == [ours.number]
    assert unpaid["count"] == 1 and unpaid["results"][0]["status"] == "pending_payment"
    assert bad.status_code == 400 and "status" in bad.json()["message"]


def test_detail_has_address_and_timeline(staff_a, ours):
    response = api_as(staff_a).get(f"/api/v1/vendor/orders/{ours.number}/")

    assert response.status_code == 200
    body = response.json()
    assert body["shipping_address"]["street"] == "88 Tianyaoqiao Road, Room 1203"
    assert [event["type"] for event in body["events"]] == ["placed", "paid"]


def test_ship_then_ship_again_is_409(manager_a, ours, buyer):
    api = api_as(manager_a)

    shipped = api.post(
        f"/api/v1/vendor/orders/{ours.number}/ship/", {"carrier": "SF", "tracking_number": "SF9"}, format="json"
    )
    again = api.post(
        f"/api/v1/vendor/orders/{ours.number}/ship/", {"carrier": "SF", "tracking_number": "SF10"}, format="json"
    )

    assert (
        shipped.status_code == 200
        and shipped.json()["status"] == "shipped"
        and shipped.json()["tracking_number"] == "SF9"
    )
    assert again.status_code == 409
    assert again.json() == {
        "message": f"Cannot change shop order {ours.number} from shipped to shipped.",
        "code": "invalid_transition",
    }
    ours.refresh_from_db()
    assert ours.tracking_number == "SF9"
    assert buyer.notifications.filter(kind="vendor_order.shipped").count() == 1


def test_ship_needs_carrier_and_tracking(owner_a, ours):
    response = api_as(owner_a).post(f"/api/v1/vendor/orders/{ours.number}/ship/", {"carrier": "SF"}, format="json")

    assert response.status_code == 400
    assert response.json()["message"].startswith("tracking_number")
    ours.refresh_from_db()
    assert ours.status == VO.PAID


def test_unpaid_order_cannot_be_shipped(owner_a, buyer, shop_a):
    unpaid = order_for(buyer=buyer, vendors=[shop_a]).vendor_orders.get()

    response = api_as(owner_a).post(
        f"/api/v1/vendor/orders/{unpaid.number}/ship/", {"carrier": "SF", "tracking_number": "1"}, format="json"
    )

    assert response.status_code == 409


def test_other_shops_staff_cannot_read_or_ship_my_orders(owner_b, ours):
    api = api_as(owner_b)

    assert api.get(f"/api/v1/vendor/orders/{ours.number}/").status_code == 404
    ship = api.post(
        f"/api/v1/vendor/orders/{ours.number}/ship/", {"carrier": "SF", "tracking_number": "X"}, format="json"
    )
    assert ship.status_code == 404 and ship.json()["message"] == "Order not found."
    assert ours.number not in str(api.get("/api/v1/vendor/orders/").json())
    # Naming shop A in the header does not help.
    assert api.get("/api/v1/vendor/orders/", HTTP_X_VENDOR=str(ours.vendor_id)).status_code == 403
    ours.refresh_from_db()
    assert ours.status == VO.PAID


@pytest.mark.parametrize("who", ["buyer", "anonymous"])
def test_buyers_and_anonymous_are_refused_on_every_endpoint(who, request, ours):
    api = api_as(request.getfixturevalue("buyer")) if who == "buyer" else APIClient()

    for method, url in (
        ("get", "/api/v1/vendor/orders/"),
        ("get", f"/api/v1/vendor/orders/{ours.number}/"),
        ("post", f"/api/v1/vendor/orders/{ours.number}/ship/"),
    ):
        response = getattr(api, method)(
            url, {"carrier": "SF", "tracking_number": "X"} if method == "post" else None, format="json"
        )
        assert response.status_code in (401, 403), url
        assert "message" in response.json()
    ours.refresh_from_db()
    assert ours.status == VO.PAID
