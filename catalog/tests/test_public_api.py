"""The public catalog API: categories, shops, products with the pages' filters."""

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from catalog.tests.factories import make_market, make_product
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_afterwards():
    """Requests in Chinese leave the language active in this thread: reset it for later tests."""
    yield
    translation.activate("en")


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def market(shop_a, shop_b):
    return make_market(shop_a=shop_a, shop_b=shop_b)


def titles(response) -> list[str]:
    return sorted(item["title"] for item in response.json()["results"])


def test_categories_are_a_flat_list_with_parents(api, market):
    body = api.get("/api/v1/categories/").json()
    by_slug = {c["slug"]: c for c in body["results"]}
    assert body["count"] == 6
    assert by_slug["electronics"]["parent"] is None
    assert by_slug["phones"]["parent"] == market.electronics.pk
    assert by_slug["smartphones"]["depth"] == 2
    assert [c["slug"] for c in body["results"]][:4] == ["electronics", "phones", "smartphones", "audio"]


def test_category_tree_is_nested(api, market):
    body = api.get("/api/v1/categories/tree/").json()
    assert [c["slug"] for c in body] == ["electronics", "home"]
    electronics = body[0]
    assert [c["slug"] for c in electronics["children"]] == ["phones", "audio"]
    assert electronics["children"][0]["children"][0]["slug"] == "smartphones"


def test_shops_lists_only_active_shops(api, market, shop_a, shop_b):
    body = api.get("/api/v1/shops/").json()
    assert sorted(s["slug"] for s in body["results"]) == sorted([shop_a.slug, shop_b.slug])
    assert api.get(f"/api/v1/shops/{shop_a.slug}/").json()["name"] == "Tea House"


def test_suspended_shop_is_not_found(api, market):
    response = api.get("/api/v1/shops/closed-shop/")
    assert response.status_code == 404
    assert response.json()["message"]


def test_products_list_shape(api, market, shop_b):
    response = api.get("/api/v1/products/", {"search": "Phone Y"})
    assert response.status_code == 200
    item = response.json()["results"][0]
    assert item["title"] == "Phone Y"
    assert item["price"] == "999.00" and item["min_price"] == "999.00"
    assert item["currency"] == "CNY"
    assert item["shop"] == {"slug": shop_b.slug, "name": "Panda Sports"}
    assert item["url"] == f"http://testserver/p/{market.phone_y.slug}/"
    assert item["in_stock"] is True


def test_products_list_has_only_visible_products(api, market):
    assert titles(api.get("/api/v1/products/")) == ["Clay teapot", "Earbuds", "Green tea", "Phone X", "Phone Y"]


def test_products_list_takes_the_pages_filters(api, market, shop_b):
    response = api.get(
        "/api/v1/products/",
        {"category": "electronics", "shop": shop_b.slug, "attr": ["colour:red"], "in_stock": "1", "ordering": "-price"},
    )
    assert [i["title"] for i in response.json()["results"]] == ["Phone X", "Phone Y"]
    response = api.get("/api/v1/products/", {"min_price": "100", "max_price": "300", "ordering": "price"})
    assert [i["title"] for i in response.json()["results"]] == ["Earbuds", "Clay teapot"]


def test_products_search_in_chinese_orders_by_relevance(api, shop_a):
    make_product(vendor=shop_a, title="Cup", title_zh_hans="杯子", description="适合配茶壶使用")
    make_product(vendor=shop_a, title="Pot", title_zh_hans="紫砂茶壶")
    response = api.get("/api/v1/products/", {"search": "茶壶"})
    assert [i["title"] for i in response.json()["results"]] == ["Pot", "Cup"]


def test_products_title_follows_the_language(api, shop_a):
    make_product(vendor=shop_a, title="Teapot", title_zh_hans="茶壶")
    assert api.get("/api/v1/products/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"][0]["title"] == "茶壶"
    assert api.get("/api/v1/products/").json()["results"][0]["title"] == "Teapot"


def test_products_are_paginated_with_page_size_up_to_100(api, shop_a):
    for n in range(30):
        make_product(vendor=shop_a, title=f"Cup {n}")
    body = api.get("/api/v1/products/").json()
    assert body["count"] == 30 and len(body["results"]) == 24 and body["next"]
    assert len(api.get("/api/v1/products/", {"page_size": 5}).json()["results"]) == 5
    assert len(api.get("/api/v1/products/", {"page_size": 1000}).json()["results"]) == 30


@pytest.mark.parametrize(
    "params",
    [
        {"min_price": "abc"},
        {"max_price": "-1"},
        {"ordering": "nonsense"},
        {"shop": "no-such-shop"},
        {"category": "no-such"},
        {"attr": "<script>"},
        {"search": "x" * 500},
    ],
)
def test_bad_filters_are_400_with_a_message(api, market, params):
    response = api.get("/api/v1/products/", params)
    assert response.status_code == 400
    body = response.json()
    assert body["message"] and body["code"] == "invalid"


@pytest.mark.parametrize("page", ["999999", "-1", "abc"])
def test_bad_pages_are_404_with_a_message(api, market, page):
    response = api.get("/api/v1/products/", {"page": page})
    assert response.status_code == 404
    assert response.json()["message"]


def test_product_detail_has_variants_images_shop_and_category(api, market):
    response = api.get(f"/api/v1/products/{market.phone_x.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Phone X"
    assert body["category"]["slug"] == "smartphones"
    assert body["shop"]["slug"] == "panda-sports"
    variants = {v["sku"]: v for v in body["variants"]}
    assert variants["PX-B128"]["price"] == "1999.00"
    assert variants["PX-B128"]["currency"] == "CNY"
    assert variants["PX-B128"]["stock"] == 5
    assert variants["PX-B128"]["attributes"] == {"colour": "Black", "storage": "128 GB"}
    assert variants["PX-R256"]["stock"] == 0
    assert body["images"] == []


def test_product_detail_lists_image_urls(api, shop_a):
    from django.core.files.base import ContentFile

    from catalog.models import ProductImage

    product = make_product(vendor=shop_a, title="Pictured")
    image = ProductImage(product=product, alt="front")
    image.image.save("front.png", ContentFile(b"not really a png"), save=True)
    body = api.get(f"/api/v1/products/{product.pk}/").json()
    assert body["images"][0]["url"].startswith("http://testserver/media/products/")
    assert body["images"][0]["alt"] == "front"


@pytest.mark.parametrize("name", ["hidden", "draft", "banned", "suspended"])
def test_invisible_product_detail_is_404(api, market, name):
    response = api.get(f"/api/v1/products/{getattr(market, name).pk}/")
    assert response.status_code == 404
    assert response.json() == {"message": "Product not found.", "code": "not_found"}


def test_unknown_product_is_404_json(api, market):
    response = api.get("/api/v1/products/987654321/")
    assert response.status_code == 404
    assert response.json()["message"] == "Product not found."


def test_catalog_api_is_read_only(api, market):
    assert api.post("/api/v1/products/", {}).status_code == 405


def test_schema_generates_without_errors(api, market):
    response = api.get("/api/schema/")
    assert response.status_code == 200
    schema = response.content.decode()
    assert "/api/v1/products/" in schema and "in_stock" in schema


def test_suspending_a_shop_hides_its_products(api, market, shop_b):
    Vendor.objects.filter(pk=shop_b.pk).update(status=Vendor.Status.SUSPENDED)
    assert titles(api.get("/api/v1/products/")) == ["Clay teapot", "Green tea"]
