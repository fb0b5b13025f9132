"""The public catalog pages, as a visitor sees them."""

import pytest
from django.utils import translation

from catalog.tests.factories import make_market, make_product
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_afterwards():
    """Requests in Chinese leave the language active in this thread: reset it for later tests."""
    yield
    translation.activate("en")


@pytest.fixture
def market(shop_a, shop_b):
    return make_market(shop_a=shop_a, shop_b=shop_b)


def card_titles(response) -> list[str]:
    return [p.title for p in response.context["products"]]


def test_home_shows_categories_newest_products_and_shops(client, market, shop_a):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/c/electronics/"' in html and 'href="/c/phones/"' in html
    assert "Phone Y" in html and "Clay teapot" in html
    assert "Hidden phone" not in html and "Suspended shop phone" not in html
    assert f'href="/s/{shop_a.slug}/"' in html


def test_market_lists_every_visible_product(client, market):
    response = client.get("/products/")
    assert response.status_code == 200
    assert sorted(card_titles(response)) == ["Clay teapot", "Earbuds", "Green tea", "Phone X", "Phone Y"]
    html = response.content.decode()
    assert "Banned phone" not in html and "Draft phone" not in html


def test_market_filters_from_the_query_string(client, market, shop_b):
    response = client.get(f"/products/?shop={shop_b.slug}&attr=colour:red&in_stock=1&sort=price")
    assert card_titles(response) == ["Phone Y", "Phone X"]
    html = response.content.decode()
    assert 'data-testid="facet-shops"' in html


def test_facet_counts_are_shown_next_to_options(client, market, shop_a):
    html = client.get("/products/").content.decode()
    assert f'data-slug="{shop_a.slug}"' in html
    assert 'Electronics</a> <span class="count">3</span>' in html
    assert 'In stock only <span class="count">4</span>' in html


def test_category_page_lists_its_subtree_with_breadcrumbs(client, market):
    response = client.get("/c/electronics/")
    assert response.status_code == 200
    assert sorted(card_titles(response)) == ["Earbuds", "Phone X", "Phone Y"]
    html = response.content.decode()
    assert 'href="/c/phones/"' in html  # child category facet
    response = client.get("/c/smartphones/")
    crumbs = [c.slug for c in response.context["breadcrumbs"]]
    assert crumbs == ["electronics", "phones", "smartphones"]


def test_unknown_category_is_404(client, market):
    assert client.get("/c/no-such-thing/").status_code == 404


def test_search_page_ranks_and_filters(client, market):
    response = client.get("/search/?q=phone")
    assert response.status_code == 200
    assert sorted(card_titles(response)) == ["Phone X", "Phone Y"]
    assert response.context["sort"] == "relevance"
    response = client.get("/search/?q=phone&max_price=1000")
    assert card_titles(response) == ["Phone Y"]


def test_search_page_in_chinese(client, shop_a):
    make_product(vendor=shop_a, title="Redmi phone", title_zh_hans="小米 Redmi Note 13 5G 智能手机 大电量")
    response = client.get("/search/", {"q": "电量"})
    assert card_titles(response) == ["Redmi phone"]


def test_search_page_shows_chinese_title_in_chinese(client, shop_a):
    make_product(vendor=shop_a, title="Redmi phone", title_zh_hans="红米手机")
    with translation.override("zh-hans"):
        response = client.get("/search/", {"q": "手机"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "红米手机" in response.content.decode()


def test_empty_search_invites_to_type(client, market):
    response = client.get("/search/?q=")
    assert response.status_code == 200
    assert "Type a product" in response.content.decode()


def test_search_without_results_says_so(client, market):
    response = client.get("/search/?q=zzzzzz")
    assert 'data-testid="no-results"' in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "min_price=abc",
        "max_price=-5",
        "min_price=10&max_price=5",
        "min_price=1e999",
        "min_price=NaN",
        "page=999999",
        "page=-1",
        "page=abc",
        "sort=nonsense",
        "shop=no-such-shop",
        "category=no-such",
        "attr=%3Cscript%3E",
        "in_stock=maybe",
        "q=" + "x" * 5000,
        "attr=" + "&attr=".join(f"a{i}" for i in range(50)),
    ],
)
@pytest.mark.parametrize("path", ["/products/", "/search/", "/c/electronics/"])
def test_bad_parameters_give_a_clean_page(client, market, path, query):
    response = client.get(f"{path}?{query}")
    assert response.status_code == 200


def test_bad_price_is_reported_and_ignored(client, market):
    response = client.get("/products/?min_price=abc&shop=panda-sports")
    html = response.content.decode()
    assert 'data-testid="filter-errors"' in html
    assert sorted(card_titles(response)) == ["Earbuds", "Phone X", "Phone Y"]


def test_page_beyond_the_last_shows_the_last(client, shop_a):
    for n in range(30):
        make_product(vendor=shop_a, title=f"Cup {n:02d}")
    response = client.get("/products/?page=999999")
    assert response.context["page"].number == 2
    assert len(card_titles(response)) == 6
    assert 'rel="prev"' in response.content.decode()


def test_product_page_shows_variants_prices_and_add_to_cart(client, market):
    response = client.get(f"/p/{market.phone_x.slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Phone X" in html
    assert "¥1,999.00" in html and "¥2,399.00" in html
    assert 'action="/cart/add/"' in html
    variant_ids = [v.pk for v in market.phone_x.variants.all()]
    for variant_id in variant_ids:
        assert f'value="{variant_id}"' in html
    assert 'name="quantity"' in html
    assert "Colour: Red" in html


def test_product_page_shows_compare_at_price(client, shop_a):
    product = make_product(
        vendor=shop_a, title="Tea set", variants=[{"sku": "TS", "price": "80.00", "compare_at_price": "120.00"}]
    )
    html = client.get(f"/p/{product.slug}/").content.decode()
    assert '<span class="compare">¥120.00</span>' in html


def test_sold_out_product_has_no_add_to_cart(client, market):
    html = client.get(f"/p/{market.green_tea.slug}/").content.decode()
    assert 'data-testid="sold-out"' in html
    assert 'action="/cart/add/"' not in html


def test_product_description_is_sanitised(client, shop_a):
    product = make_product(vendor=shop_a, title="Mug", description='<p>Nice</p><script>alert("x")</script>')
    html = client.get(f"/p/{product.slug}/").content.decode()
    assert "<p>Nice</p>" in html
    assert "<script>alert" not in html


@pytest.mark.parametrize("name", ["hidden", "draft", "banned", "suspended"])
def test_invisible_product_page_is_404(client, market, name):
    assert client.get(f"/p/{getattr(market, name).slug}/").status_code == 404


def test_unknown_product_is_404(client, market):
    assert client.get("/p/nothing-here/").status_code == 404


def test_shop_page_shows_its_products_and_categories(client, market, shop_b):
    shop_b.description = "Sports and phones."
    shop_b.save()
    response = client.get(f"/s/{shop_b.slug}/")
    assert response.status_code == 200
    assert sorted(card_titles(response)) == ["Earbuds", "Phone X", "Phone Y"]
    html = response.content.decode()
    assert "Sports and phones." in html
    used = {v.slug: v.count for v in response.context["categories_used"]}
    assert used == {"smartphones": 2, "audio": 1}
    response = client.get(f"/s/{shop_b.slug}/?category=audio")
    assert card_titles(response) == ["Earbuds"]


def test_shop_page_paginates(client, shop_a):
    for n in range(30):
        make_product(vendor=shop_a, title=f"Tea {n:02d}")
    response = client.get(f"/s/{shop_a.slug}/")
    assert len(card_titles(response)) == 24
    response = client.get(f"/s/{shop_a.slug}/?page=2")
    assert len(card_titles(response)) == 6


def test_suspended_shop_page_is_404(client, market):
    assert client.get("/s/closed-shop/").status_code == 404
    Vendor.objects.filter(slug="closed-shop").update(status=Vendor.Status.ACTIVE)
    assert client.get("/s/closed-shop/").status_code == 200


def test_pages_speak_chinese(client, market):
    response = client.get("/products/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()


def test_search_result_pages_follow_the_ranking(client, shop_a):
    in_titles = {make_product(vendor=shop_a, title=f"Teacup {n:02d}").pk for n in range(20)}
    in_descriptions = {
        make_product(vendor=shop_a, title=f"Saucer {n:02d}", description="Fits a teacup.").pk for n in range(10)
    }
    first = client.get("/search/", {"q": "teacup"})
    second = client.get("/search/", {"q": "teacup", "page": "2"})
    assert first.context["page"].paginator.count == 30
    first_ids = [p.pk for p in first.context["products"]]
    second_ids = [p.pk for p in second.context["products"]]
    assert len(first_ids) == 24 and len(second_ids) == 6
    assert set(first_ids[:20]) == in_titles
    assert set(first_ids[20:]) | set(second_ids) == in_descriptions
    assert all(p.has_stock for p in first.context["products"])
