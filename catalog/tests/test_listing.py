"""product_list and product_facets: the filters and counts behind every listing page."""

from decimal import Decimal

import pytest

from catalog.selectors import product_facets, product_list
from catalog.tests.factories import make_market, product_derive

pytestmark = pytest.mark.django_db


@pytest.fixture
def market(shop_a, shop_b):
    return make_market(shop_a=shop_a, shop_b=shop_b)


def titles(queryset) -> list[str]:
    return sorted(p.title for p in queryset)


ALL_VISIBLE = ["Clay teapot", "Earbuds", "Green tea", "Phone X", "Phone Y"]


def test_only_visible_products_are_listed(market):
    assert titles(product_list()) == ALL_VISIBLE


def test_category_includes_its_whole_subtree(market):
    assert titles(product_list(category=market.electronics)) == ["Earbuds", "Phone X", "Phone Y"]
    assert titles(product_list(category=market.phones)) == ["Phone X", "Phone Y"]
    assert titles(product_list(category=market.home)) == ["Clay teapot", "Green tea"]


def test_shop_filter(market, shop_a):
    assert titles(product_list(vendor=shop_a)) == ["Clay teapot", "Green tea"]


def test_price_range_uses_the_lowest_price(market):
    assert titles(product_list(min_price=Decimal("199"), max_price=Decimal("999"))) == [
        "Clay teapot",
        "Earbuds",
        "Phone Y",
    ]
    assert titles(product_list(min_price=Decimal("2000"))) == []


def test_in_stock_means_an_active_variant_with_stock(market):
    assert titles(product_list(in_stock=True)) == ["Clay teapot", "Earbuds", "Phone X", "Phone Y"]
    market.phone_x.variants.filter(stock__gt=0).update(is_active=False)
    product_derive(market.phone_x)
    assert "Phone X" not in titles(product_list(in_stock=True))


def test_attribute_values_are_all_required(market):
    assert titles(product_list(attribute_value_slugs=["colour:red"])) == ["Phone X", "Phone Y"]
    assert titles(product_list(attribute_value_slugs=["colour:red", "storage:128gb"])) == ["Phone X", "Phone Y"]
    assert titles(product_list(attribute_value_slugs=["colour:red", "storage:256gb"])) == ["Phone X"]
    assert titles(product_list(attribute_value_slugs=["black"])) == ["Clay teapot", "Earbuds", "Phone X"]
    assert titles(product_list(attribute_value_slugs=["colour:nosuch"])) == []


def test_sorting(market):
    assert [p.title for p in product_list(sort="price")] == [
        "Green tea",
        "Earbuds",
        "Clay teapot",
        "Phone Y",
        "Phone X",
    ]
    assert [p.title for p in product_list(sort="-price")][0] == "Phone X"
    assert [p.title for p in product_list(sort="newest")] == [
        "Phone Y",
        "Earbuds",
        "Phone X",
        "Green tea",
        "Clay teapot",
    ]
    market.earbuds.sold_count = 50
    market.earbuds.save(update_fields=["sold_count"])
    assert [p.title for p in product_list(sort="best_selling")][0] == "Earbuds"
    # Relevance without a query falls back to newest.
    assert [p.title for p in product_list(sort="relevance")][0] == "Phone Y"


def test_listing_rows_carry_stock_flag(market):
    rows = {p.title: p.has_stock for p in product_list()}
    assert rows["Green tea"] is False
    assert rows["Phone X"] is True


def test_filters_combine_with_search(market):
    assert titles(product_list(query="phone", in_stock=True, max_price=Decimal("1000"))) == ["Phone Y"]


def counts(values) -> dict[str, int]:
    return {v.slug: v.count for v in values}


def test_facets_of_the_whole_market(market, shop_a, shop_b):
    facets = product_facets()
    assert counts(facets.shops) == {shop_a.slug: 2, shop_b.slug: 3}
    assert counts(facets.categories) == {"electronics": 3, "home": 2}
    assert facets.in_stock == 4
    by_attribute = {a.slug: counts(a.values) for a in facets.attributes}
    assert by_attribute == {
        "colour": {"colour:black": 3, "colour:red": 2},
        "storage": {"storage:128gb": 2, "storage:256gb": 1},
    }


def test_facets_follow_the_current_filters(market, shop_a, shop_b):
    facets = product_facets(category=market.electronics, attribute_value_slugs=["colour:red"])
    assert counts(facets.categories) == {"phones": 2}
    assert counts(facets.shops) == {shop_b.slug: 2}
    assert facets.in_stock == 2
    colour = next(a for a in facets.attributes if a.slug == "colour")
    assert {v.slug: (v.count, v.selected) for v in colour.values} == {
        "colour:black": (1, False),
        "colour:red": (2, True),
    }


def test_shop_facet_ignores_the_shop_filter_but_marks_it(market, shop_a, shop_b):
    facets = product_facets(vendor=shop_a)
    assert {v.slug: (v.count, v.selected) for v in facets.shops} == {shop_a.slug: (2, True), shop_b.slug: (3, False)}
    assert counts(facets.categories) == {"home": 2}
    assert facets.in_stock == 1


def test_facets_of_a_search(market):
    facets = product_facets(query="phone")
    assert counts(facets.categories) == {"electronics": 2}
    assert facets.in_stock == 2


def test_hidden_products_are_not_counted(market):
    facets = product_facets(category=market.smartphones)
    assert sum(v.count for v in facets.shops) == 2
