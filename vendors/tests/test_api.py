"""/api/v1/vendor/shops/ and /api/v1/vendor/shipping-templates/."""

import pytest
from rest_framework.test import APIClient

from vendors.models import Role
from vendors.tests.factories import VendorMemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def test_my_shops_lists_the_shops_i_staff_with_my_role(api, owner_a, shop_a, shop_b, owner_b):
    VendorMemberFactory(vendor=shop_b, user=owner_a, role=Role.STAFF)
    api.force_authenticate(owner_a)
    body = api.get("/api/v1/vendor/shops/").json()
    assert body["count"] == 2
    shops = {shop["slug"]: shop for shop in body["results"]}
    assert shops["tea-house"]["role"] == "owner"
    assert shops["tea-house"]["permissions"] == [
        "coupons",
        "earnings",
        "orders",
        "products",
        "shipping",
        "shop",
        "staff",
    ]
    assert shops["panda-sports"]["role"] == "staff"
    assert shops["panda-sports"]["id"] == shop_b.pk


def test_a_buyer_has_no_shops(api, buyer, shop_a):
    api.force_authenticate(buyer)
    assert api.get("/api/v1/vendor/shops/").json()["results"] == []


def test_anonymous_gets_a_json_error(api):
    response = api.get("/api/v1/vendor/shops/")
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"
    assert "message" in response.json()


def test_token_authentication_works(api, owner_a, password):
    token = api.post("/api/v1/auth/token/", {"email": owner_a.email, "password": password}, format="json").json()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token['token']}")
    assert api.get("/api/v1/vendor/shops/").json()["results"][0]["slug"] == "tea-house"


def test_shipping_templates_of_the_chosen_shop_only(api, owner_a, manager_a, staff_a, owner_b, shop_a, shop_b):
    api.force_authenticate(manager_a)
    body = api.get("/api/v1/vendor/shipping-templates/").json()
    assert [(t["name"], t["base_fee"], t["free_over"]) for t in body["results"]] == [("Standard", "10.00", "99.00")]

    api.force_authenticate(owner_b)
    assert api.get("/api/v1/vendor/shipping-templates/").json()["results"][0]["base_fee"] == "12.00"
    forged = api.get("/api/v1/vendor/shipping-templates/", HTTP_X_VENDOR=str(shop_a.pk))
    assert forged.status_code == 403 and forged.json()["code"] == "permission_denied"

    api.force_authenticate(staff_a)
    assert api.get("/api/v1/vendor/shipping-templates/").status_code == 403
