"""Listing pages, search and product detail run a fixed number of queries, whatever the
number of products shown (anonymous visitor, page cache off)."""

import pytest

from catalog.models import Attribute, AttributeValue
from catalog.tests.factories import make_category, make_product
from vendors.tests.factories import VendorFactory

pytestmark = pytest.mark.django_db

# Listings: categories, page rows and the facet counts (one grouped count, one count of
# attribute values, the shops' and the values' labels; cached outside tests, see test_cache);
# the shop page also reads the shop, the categories it uses and its claimable coupons. The API
# list: counts and rows.
# A search reads its page in two steps (ranked ids, then rows): one query more. Product: product (with shop and category), variants, their attribute values, images.
BUDGETS = {
    "market": 6,
    "category": 6,
    "search": 7,
    "shop": 9,
    "home": 3,
    "product": 4,
    "api_list": 6,
    "api_detail": 4,
}


def build(count: int) -> dict:
    root = make_category("Things")
    leaf = make_category("Small things", parent=root)
    colour = Attribute.objects.create(name="Colour", slug="colour")
    values = [AttributeValue.objects.create(attribute=colour, value=f"C{n}", slug=f"c{n}") for n in range(3)]
    shops = [VendorFactory() for _ in range(3)]
    products = []
    for n in range(count):
        products.append(
            make_product(
                vendor=shops[n % 3],
                category=leaf,
                title=f"Widget number {n}",
                variants=[
                    {"price": "10.00", "stock": n % 4, "attribute_values": [values[n % 3]]},
                    {"price": "12.00", "stock": 1, "attribute_values": [values[(n + 1) % 3]]},
                ],
            )
        )
    return {"root": root, "shop": shops[0], "product": products[-1]}


def paths(built: dict) -> dict[str, str]:
    return {
        "market": "/products/?attr=colour:c1&in_stock=1",
        "category": f"/c/{built['root'].slug}/",
        "search": "/search/?q=widget",
        "shop": f"/s/{built['shop'].slug}/",
        "home": "/",
        "product": f"/p/{built['product'].slug}/",
        "api_list": "/api/v1/products/?search=widget",
        "api_detail": f"/api/v1/products/{built['product'].pk}/",
    }


@pytest.mark.parametrize("count", [5, 30])
@pytest.mark.parametrize("page", list(BUDGETS))
def test_page_query_budget(client, django_assert_max_num_queries, count, page):
    built = build(count)
    path = paths(built)[page]
    with django_assert_max_num_queries(BUDGETS[page]):
        response = client.get(path)
    assert response.status_code == 200
    if page in ("category", "search"):
        assert len(response.context["products"]) == min(count, 24)
