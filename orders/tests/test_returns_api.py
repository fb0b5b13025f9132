"""Returns by program: the buyer's /api/v1/returns/ and the shop's /api/v1/vendor/orders/returns/."""

from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalog.models import ProductVariant
from orders.models import ReturnRequest, VendorOrder
from orders.services.returns import return_request_accept, return_request_open
from orders.tests.returns_factories import photo, shop_order

pytestmark = pytest.mark.django_db
RS = ReturnRequest.Status
KIND = ReturnRequest.Kind
VO = VendorOrder.Status


def api_as(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def vendor_order(buyer, shop_a, owner_a):
    return shop_order(buyer=buyer, shop=shop_a, lines=[("10.00", 3)])


def open_request(vendor_order, buyer, *, kind=KIND.RETURN_AND_REFUND, quantity=1) -> ReturnRequest:
    return return_request_open(
        vendor_order=vendor_order,
        actor=buyer,
        kind=kind,
        reason="damaged",
        lines=[(vendor_order.lines.get(), quantity)],
    )


def body(vendor_order, quantity=2, **extra) -> dict:
    return {
        "vendor_order": vendor_order.number,
        "kind": KIND.RETURN_AND_REFUND,
        "reason": "wrong_item",
        "description": "Ordered green, got red.",
        "lines": [{"line": vendor_order.lines.get().pk, "quantity": quantity}],
        **extra,
    }


# --- The buyer ---------------------------------------------------------------------------------


def test_buyer_asks_for_a_return_by_api(vendor_order, buyer):
    response = api_as(buyer).post("/api/v1/returns/", body(vendor_order), format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "requested" and data["amount"] == "20.00" and data["vendor_order"] == vendor_order.number
    assert data["lines"][0]["quantity"] == 2 and data["events"][0]["type"] == "return_requested"
    assert ReturnRequest.objects.get().number == data["number"]


def test_buyer_attaches_photos_in_a_multipart_request(vendor_order, buyer):
    response = api_as(buyer).post(
        "/api/v1/returns/",
        {
            "vendor_order": vendor_order.number,
            "kind": KIND.REFUND_ONLY,
            "reason": "damaged",
            "lines[0]line": vendor_order.lines.get().pk,
            "lines[0]quantity": 1,
            "photos": [photo("a.png"), photo("b.png")],
        },
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    assert len(response.json()["photos"]) == 2


def test_too_many_units_is_a_409_with_its_code(vendor_order, buyer):
    response = api_as(buyer).post("/api/v1/returns/", body(vendor_order, quantity=4), format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "return_quantity_exceeded" and not ReturnRequest.objects.exists()


def test_outside_the_window_is_a_409(buyer, shop_a):
    old = shop_order(buyer=buyer, shop=shop_a, delivered_days_ago=10)

    response = api_as(buyer).post("/api/v1/returns/", body(old, quantity=1), format="json")

    assert response.status_code == 409 and response.json()["code"] == "return_not_allowed"


def test_bad_input_is_a_400(vendor_order, buyer):
    response = api_as(buyer).post("/api/v1/returns/", body(vendor_order, reason="bored"), format="json")

    assert response.status_code == 400 and "reason" in response.json()["message"]


def test_another_buyers_order_is_not_found(vendor_order, other_buyer):
    response = api_as(other_buyer).post("/api/v1/returns/", body(vendor_order), format="json")

    assert response.status_code == 404 and not ReturnRequest.objects.exists()


def test_buyer_lists_reads_and_cancels_only_their_requests(vendor_order, buyer, other_buyer, shop_a):
    mine = open_request(vendor_order, buyer)
    theirs = open_request(shop_order(buyer=other_buyer, shop=shop_a), other_buyer)
    api = api_as(buyer)

    listed = api.get("/api/v1/returns/").json()
    assert [row["number"] for row in listed["results"]] == [mine.number]
    assert api.get(f"/api/v1/returns/{theirs.number}/").status_code == 404
    assert api.post(f"/api/v1/returns/{theirs.number}/cancel/").status_code == 404
    cancelled = api.post(f"/api/v1/returns/{mine.number}/cancel/")

    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    theirs.refresh_from_db()
    assert theirs.status == RS.REQUESTED


def test_buyer_sends_the_tracking_number_by_api(vendor_order, buyer, owner_a):
    return_request = open_request(vendor_order, buyer)
    api = api_as(buyer)
    early = api.post(f"/api/v1/returns/{return_request.number}/ship-back/", {"carrier": "SF", "tracking_number": "1"})
    return_request_accept(return_request=return_request, actor=owner_a)

    response = api.post(
        f"/api/v1/returns/{return_request.number}/ship-back/", {"carrier": "SF", "tracking_number": "SF5"}
    )

    assert early.status_code == 409
    assert response.status_code == 200 and response.json()["return_tracking_number"] == "SF5"


# --- The shop ----------------------------------------------------------------------------------


def test_shop_lists_its_returns_by_status(vendor_order, buyer, owner_a, shop_b):
    ours = open_request(vendor_order, buyer)
    open_request(shop_order(buyer=buyer, shop=shop_b), buyer)
    api = api_as(owner_a)

    listed = api.get("/api/v1/vendor/orders/returns/").json()
    none_refunded = api.get("/api/v1/vendor/orders/returns/?status=refunded").json()
    bad = api.get("/api/v1/vendor/orders/returns/?status=lost")

    assert [row["number"] for row in listed["results"]] == [ours.number]
    assert none_refunded["count"] == 0 and bad.status_code == 400


def test_shop_accepts_refuses_and_receives_by_api(vendor_order, buyer, owner_a):
    variant_id = vendor_order.lines.get().variant_id
    stock = ProductVariant.objects.get(pk=variant_id).stock
    first, second = open_request(vendor_order, buyer), open_request(vendor_order, buyer)
    api = api_as(owner_a)

    refused = api.post(f"/api/v1/vendor/orders/returns/{second.number}/refuse/", {"note": "Outside policy."})
    accepted = api.post(f"/api/v1/vendor/orders/returns/{first.number}/accept/")
    received = api.post(f"/api/v1/vendor/orders/returns/{first.number}/goods-received/")
    again = api.post(f"/api/v1/vendor/orders/returns/{first.number}/goods-received/")

    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert received.status_code == 200 and received.json()["goods_received_at"]
    assert again.status_code == 409 and again.json()["code"] == "return_not_allowed"
    assert ProductVariant.objects.get(pk=variant_id).stock == stock + 1
    assert first.refunds.get().amount == Decimal("10.00")  # payments' receiver refunded it


def test_refusing_needs_a_note(vendor_order, buyer, owner_a):
    return_request = open_request(vendor_order, buyer)

    response = api_as(owner_a).post(f"/api/v1/vendor/orders/returns/{return_request.number}/refuse/", {})

    assert response.status_code == 400 and "note" in response.json()["message"]


def test_another_shop_cannot_read_or_answer(vendor_order, buyer, owner_b, shop_a):
    return_request = open_request(vendor_order, buyer, kind=KIND.REFUND_ONLY)
    api = api_as(owner_b)

    assert api.get(f"/api/v1/vendor/orders/returns/{return_request.number}/").status_code == 404
    assert api.post(f"/api/v1/vendor/orders/returns/{return_request.number}/accept/").status_code == 404
    named = api.post(
        f"/api/v1/vendor/orders/returns/{return_request.number}/accept/", headers={"X-Vendor": str(shop_a.pk)}
    )
    assert named.status_code == 403
    return_request.refresh_from_db()
    assert return_request.status == RS.REQUESTED


def test_the_buyer_is_not_the_shop(vendor_order, buyer):
    return_request = open_request(vendor_order, buyer, kind=KIND.REFUND_ONLY)

    assert api_as(buyer).post(f"/api/v1/vendor/orders/returns/{return_request.number}/accept/").status_code == 403
