"""The vendor products API: a shop's owners and managers manage its catalog; another shop's
ids are 404, staff and buyers 403, anonymous callers 401/403, always JSON with a message."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from catalog.models import Product, ProductVariant
from catalog.services import product_ban, product_create
from catalog.tests.factories import CategoryFactory
from catalog.tests.test_images import png_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def tea(db):
    return CategoryFactory(name="Tea", slug="tea")


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def longjing(shop_a, owner_a, tea):
    return product_create(
        vendor=shop_a,
        actor=owner_a,
        data={
            "title_en": "West Lake Longjing",
            "title_zh_hans": "西湖龙井",
            "category": tea,
            "variants": [
                {"sku": "LJ-50", "name": "50 g", "price": "88.00", "stock": 5},
                {"sku": "LJ-100", "name": "100 g", "price": "160.00", "stock": 3},
            ],
        },
    )


@pytest.fixture
def panda_ball(shop_b, owner_b, tea):
    return product_create(
        vendor=shop_b,
        actor=owner_b,
        data={"title_en": "Panda Ball", "category": tea, "variants": [{"sku": "PB-1", "price": "30.00", "stock": 9}]},
    )


def test_the_list_shows_only_my_shops_products_with_variants(
    api, owner_a, longjing, panda_ball, django_assert_max_num_queries
):
    api.force_authenticate(owner_a)
    with django_assert_max_num_queries(10):
        response = api.get("/api/v1/vendor/products/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    product = body["results"][0]
    assert (product["id"], product["title_zh_hans"], product["min_price"], product["total_stock"]) == (
        longjing.pk,
        "西湖龙井",
        "88.00",
        8,
    )
    assert [variant["sku"] for variant in product["variants"]] == ["LJ-50", "LJ-100"]
    assert api.get("/api/v1/vendor/products/?q=PB-1").json()["count"] == 0
    assert api.get("/api/v1/vendor/products/?status=bogus").status_code == 400


def test_a_manager_creates_a_product_with_variants_in_one_call(api, manager_a, shop_a, tea):
    api.force_authenticate(manager_a)
    response = api.post(
        "/api/v1/vendor/products/",
        {
            "title_en": "Jasmine Pearls",
            "title_zh_hans": "茉莉龙珠",
            "description_en": "<p>Rolled <script>x</script></p>",
            "category": "tea",
            "status": "active",
            "variants": [
                {"sku": "JP-1", "price": "45.50", "stock": 30, "attributes": {"Weight": "100 g"}},
                {"sku": "JP-2", "price": "80.00", "compare_at_price": "99.00", "stock": 10},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    product = Product.objects.get(pk=body["id"])
    assert (product.vendor, product.status, product.slug, product.description_en) == (
        shop_a,
        "active",
        "jasmine-pearls",
        "<p>Rolled </p>",
    )
    assert (body["min_price"], body["max_price"], body["total_stock"]) == ("45.50", "80.00", 40)
    assert body["variants"][0]["attributes"] == {"Weight": "100 g"}


def test_bad_input_is_a_json_error_with_a_message_and_nothing_is_created(api, owner_a, longjing):
    api.force_authenticate(owner_a)
    response = api.post(
        "/api/v1/vendor/products/",
        {"title_en": "Copycat", "category": "tea", "variants": [{"sku": "LJ-50", "price": "1.00"}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"message": "The SKU code LJ-50 is already used in your shop.", "code": "duplicate_sku"}

    response = api.post("/api/v1/vendor/products/", {"title_en": "", "category": "tea"}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert "title" in response.json()["message"]

    response = api.post(
        "/api/v1/vendor/products/",
        {"title_en": "Cheap", "category": "tea", "variants": [{"sku": "C-1", "price": "-5"}]},
        format="json",
    )
    assert response.status_code == 400 and response.json()["message"]
    assert Product.objects.count() == 1


def test_patch_edits_fields_and_status_with_the_ban_rule(api, owner_a, admin_user, longjing):
    api.force_authenticate(owner_a)
    url = f"/api/v1/vendor/products/{longjing.pk}/"
    response = api.patch(url, {"title_en": "Longjing", "status": "active"}, format="json")
    assert response.status_code == 200
    longjing.refresh_from_db()
    assert (longjing.title_en, longjing.title_zh_hans, longjing.status) == ("Longjing", "西湖龙井", "active")

    product_ban(product=longjing, actor=admin_user, reason="Counterfeit")
    api.patch(url, {"status": "hidden"}, format="json")
    response = api.patch(url, {"title_en": "Longjing again", "status": "active"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "product_banned" and "Counterfeit" in response.json()["message"]
    longjing.refresh_from_db()
    assert (longjing.status, longjing.title_en) == ("hidden", "Longjing")  # all or nothing


def test_variants_are_added_and_patched(api, owner_a, longjing):
    api.force_authenticate(owner_a)
    response = api.post(
        f"/api/v1/vendor/products/{longjing.pk}/variants/",
        {"sku": "LJ-250", "name": "250 g", "price": "380.00", "stock": 2},
        format="json",
    )
    assert response.status_code == 201
    variant_id = response.json()["id"]
    response = api.patch(f"/api/v1/vendor/variants/{variant_id}/", {"price": "370.00", "stock": 6}, format="json")
    assert response.status_code == 200 and response.json()["price"] == "370.00"
    variant = ProductVariant.objects.get(pk=variant_id)
    assert (variant.price, variant.stock, variant.name) == (Decimal("370.00"), 6, "250 g")
    longjing.refresh_from_db()
    assert (longjing.max_price, longjing.total_stock) == (Decimal("370.00"), 14)

    response = api.patch(f"/api/v1/vendor/variants/{variant_id}/", {"stock": -1}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    response = api.patch(f"/api/v1/vendor/variants/{variant_id}/", {"compare_at_price": "1.00"}, format="json")
    assert response.status_code == 400 and "compare-at" in response.json()["message"]
    variant.refresh_from_db()
    assert (variant.stock, variant.compare_at_price) == (6, None)


def test_bulk_stock_is_all_or_nothing(api, owner_a, longjing, panda_ball):
    small, large = longjing.variants.order_by("pk")
    foreign = panda_ball.variants.get()
    api.force_authenticate(owner_a)

    response = api.post(
        "/api/v1/vendor/stock/",
        {"changes": [{"variant": small.pk, "stock": 50}, {"variant": foreign.pk, "stock": 0}]},
        format="json",
    )
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert dict(ProductVariant.objects.values_list("sku", "stock")) == {"LJ-50": 5, "LJ-100": 3, "PB-1": 9}

    response = api.post(
        "/api/v1/vendor/stock/",
        {"changes": [{"variant": small.pk, "stock": 50}, {"variant": large.pk, "stock": 0}]},
        format="json",
    )
    assert response.status_code == 200
    assert sorted(variant["stock"] for variant in response.json()["updated"]) == [0, 50]
    assert dict(ProductVariant.objects.values_list("sku", "stock")) == {"LJ-50": 50, "LJ-100": 0, "PB-1": 9}


def test_image_upload_through_the_api_refuses_non_images(api, owner_a, longjing):
    api.force_authenticate(owner_a)
    url = f"/api/v1/vendor/products/{longjing.pk}/images/"
    response = api.post(url, {"image": SimpleUploadedFile("x.jpg", b"GIF89 not really")}, format="multipart")
    assert response.status_code == 400 and response.json()["code"] == "invalid_upload"
    response = api.post(url, {"image": png_upload(), "alt": "Leaves"}, format="multipart")
    assert response.status_code == 201 and response.json()["thumbnail_url"].endswith(".webp")
    assert longjing.images.count() == 1


def test_another_shops_ids_are_not_found_and_nothing_changes(api, owner_b, longjing):
    variant = longjing.variants.order_by("pk").first()
    api.force_authenticate(owner_b)
    calls = [
        ("get", f"/api/v1/vendor/products/{longjing.pk}/", None),
        ("patch", f"/api/v1/vendor/products/{longjing.pk}/", {"title_en": "Hacked", "status": "active"}),
        ("post", f"/api/v1/vendor/products/{longjing.pk}/duplicate/", None),
        ("post", f"/api/v1/vendor/products/{longjing.pk}/variants/", {"sku": "X-1", "price": "1.00"}),
        ("patch", f"/api/v1/vendor/variants/{variant.pk}/", {"stock": 0}),
        ("delete", f"/api/v1/vendor/variants/{variant.pk}/", None),
        ("post", "/api/v1/vendor/stock/", {"changes": [{"variant": variant.pk, "stock": 0}]}),
    ]
    for method, url, data in calls:
        response = getattr(api, method)(url, data, format="json")
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found"
    assert api.get("/api/v1/vendor/products/").json()["count"] == 0
    longjing.refresh_from_db()
    assert (longjing.title_en, longjing.status, Product.objects.count()) == ("West Lake Longjing", "draft", 1)
    assert dict(ProductVariant.objects.values_list("sku", "stock")) == {"LJ-50": 5, "LJ-100": 3}


@pytest.mark.parametrize("who", ["staff_a", "buyer"])
def test_staff_and_buyers_are_refused(api, request, who, longjing):
    api.force_authenticate(request.getfixturevalue(who))
    for response in (
        api.get("/api/v1/vendor/products/"),
        api.post("/api/v1/vendor/products/", {"title_en": "X", "category": "tea"}, format="json"),
        api.patch(f"/api/v1/vendor/products/{longjing.pk}/", {"status": "active"}, format="json"),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied" and response.json()["message"]
    longjing.refresh_from_db()
    assert longjing.status == "draft"


def test_anonymous_callers_are_refused_with_json(api, longjing):
    for response in (
        api.get("/api/v1/vendor/products/"),
        api.post("/api/v1/vendor/stock/", {"changes": []}, format="json"),
        api.patch(f"/api/v1/vendor/variants/{longjing.variants.first().pk}/", {"stock": 0}, format="json"),
    ):
        assert response.status_code in (401, 403)
        assert response.json()["code"] == "not_authenticated"
    assert longjing.variants.filter(stock=0).count() == 0


def test_the_schema_documents_the_vendor_product_endpoints(api):
    response = api.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/vendor/products/",
        "/api/v1/vendor/products/{product_id}/",
        "/api/v1/vendor/products/{product_id}/variants/",
        "/api/v1/vendor/variants/{variant_id}/",
        "/api/v1/vendor/stock/",
    ):
        assert path in paths
