"""The page cache: anonymous visitors get cached pages; changes to prices, stock and products
invalidate them after commit; signed-in users never get a cached page."""

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import transaction
from django.test import RequestFactory
from django.utils import translation

from catalog.cache import HEADER, products_changed
from catalog.models import Product, ProductVariant
from catalog.tests.factories import make_market, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_afterwards():
    """Requests in Chinese leave the language active in this thread: reset it for later tests."""
    yield
    translation.activate("en")


@pytest.fixture(autouse=True)
def page_cache_on(settings):
    settings.PAGE_CACHE_ENABLED = True
    settings.PAGE_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def market(shop_a, shop_b, django_capture_on_commit_callbacks):
    built = make_market(shop_a=shop_a, shop_b=shop_b)
    with django_capture_on_commit_callbacks(execute=True):  # as the services that made them do
        products_changed(product_ids=Product.objects.values_list("pk", flat=True))
    return built


def change(capture, fn, product_ids):
    """Change the catalog as services do: one transaction that ends with products_changed."""
    with capture(execute=True):
        with transaction.atomic():
            fn()
            products_changed(product_ids=product_ids)


def test_settings_give_a_real_redis_cache():
    from django.conf import settings

    assert "redis" in settings.CACHES["default"]["BACKEND"].lower()


@pytest.mark.parametrize("path", ["/", "/products/", "/c/electronics/", "/search/?q=phone", "/s/panda-sports/"])
def test_second_anonymous_visit_is_served_from_the_cache_without_queries(
    client, market, path, django_assert_num_queries
):
    first = client.get(path)
    assert first[HEADER] == "miss"
    with django_assert_num_queries(0):
        second = client.get(path)
    assert second.status_code == 200
    assert second[HEADER] == "hit"
    assert second.content == first.content


def test_product_page_is_cached(client, market, django_assert_num_queries):
    path = f"/p/{market.phone_x.slug}/"
    first = client.get(path)
    with django_assert_num_queries(0):
        second = client.get(path)
    assert second[HEADER] == "hit"
    assert second.content == first.content


def test_a_page_is_stored_from_the_second_sight_of_its_version(client, shop_a):
    product = make_product(vendor=shop_a, title="Unseen")  # no service announced it yet
    path = f"/p/{product.slug}/"
    assert client.get(path)[HEADER] == "miss"
    assert client.get(path)[HEADER] == "miss"
    assert client.get(path)[HEADER] == "hit"


def test_unknown_pages_leave_nothing_in_redis(client, market):
    from django_redis import get_redis_connection

    redis = get_redis_connection("default")
    before = redis.dbsize()
    for n in range(20):
        assert client.get(f"/p/no-such-product-{n}/").status_code == 404
    assert redis.dbsize() == before


def test_query_order_does_not_matter_but_values_do(client, market):
    client.get("/products/?sort=price&in_stock=1")
    assert client.get("/products/?in_stock=1&sort=price")[HEADER] == "hit"
    assert client.get("/products/?in_stock=1&sort=-price")[HEADER] == "miss"


def test_each_language_has_its_own_cached_page(client, market):
    english = client.get("/products/")
    chinese = client.get("/products/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese[HEADER] == "miss"
    assert b'lang="zh-hans"' in chinese.content and b'lang="en"' in english.content
    assert client.get("/products/", HTTP_ACCEPT_LANGUAGE="zh-hans")[HEADER] == "hit"


def test_price_change_invalidates_product_and_listing_pages(client, market, django_capture_on_commit_callbacks):
    product_path = f"/p/{market.phone_y.slug}/"
    client.get(product_path)
    client.get("/products/")
    variant = market.phone_y.variants.get()

    def reprice():
        ProductVariant.objects.filter(pk=variant.pk).update(price="888.00")
        Product.objects.filter(pk=market.phone_y.pk).update(min_price="888.00", max_price="888.00")

    change(django_capture_on_commit_callbacks, reprice, [market.phone_y.pk])
    page = client.get(product_path)
    assert page[HEADER] == "miss"
    assert "¥888.00" in page.content.decode() and "¥999.00" not in page.content.decode()
    listing = client.get("/products/")
    assert listing[HEADER] == "miss"
    assert "¥888.00" in listing.content.decode()


def test_stock_change_invalidates_product_and_listing_pages(client, market, django_capture_on_commit_callbacks):
    product_path = f"/p/{market.phone_y.slug}/"
    assert 'action="/cart/add/"' in client.get(product_path).content.decode()
    assert 'In stock only <span class="count">4</span>' in client.get("/products/").content.decode()

    def sell_out():  # as the order services do: the variants' stock and the product's total
        ProductVariant.objects.filter(product=market.phone_y).update(stock=0)
        Product.objects.filter(pk=market.phone_y.pk).update(total_stock=0)

    change(django_capture_on_commit_callbacks, sell_out, [market.phone_y.pk])
    page = client.get(product_path).content.decode()
    assert 'data-testid="sold-out"' in page
    assert 'In stock only <span class="count">3</span>' in client.get("/products/").content.decode()


def test_product_edit_invalidates_its_page_and_searches(client, market, django_capture_on_commit_callbacks):
    product_path = f"/p/{market.earbuds.slug}/"
    client.get(product_path)
    assert "Earbuds" in client.get("/search/?q=earbuds").content.decode()

    def retitle():
        product = Product.objects.get(pk=market.earbuds.pk)
        product.title = "Wireless headphones"
        product.save()
        from catalog.tests.factories import product_derive

        product_derive(product)

    change(django_capture_on_commit_callbacks, retitle, [market.earbuds.pk])
    assert "Wireless headphones" in client.get(product_path).content.decode()
    assert 'data-testid="no-results"' in client.get("/search/?q=earbuds").content.decode()
    assert "Wireless headphones" in client.get("/search/?q=headphones").content.decode()


def test_hiding_a_product_removes_its_cached_page(client, market, django_capture_on_commit_callbacks):
    product_path = f"/p/{market.earbuds.slug}/"
    assert client.get(product_path).status_code == 200
    change(
        django_capture_on_commit_callbacks,
        lambda: Product.objects.filter(pk=market.earbuds.pk).update(status=Product.Status.HIDDEN),
        [market.earbuds.pk],
    )
    assert client.get(product_path).status_code == 404


def test_a_change_to_one_product_keeps_other_product_pages(client, market, django_capture_on_commit_callbacks):
    client.get(f"/p/{market.phone_x.slug}/")
    change(
        django_capture_on_commit_callbacks,
        lambda: ProductVariant.objects.filter(product=market.phone_y).update(stock=1),
        [market.phone_y.pk],
    )
    assert client.get(f"/p/{market.phone_x.slug}/")[HEADER] == "hit"
    assert client.get("/products/")[HEADER] == "miss"


def test_nothing_is_invalidated_when_the_transaction_rolls_back(client, market, django_capture_on_commit_callbacks):
    path = f"/p/{market.phone_x.slug}/"
    client.get(path)
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                products_changed(product_ids=[market.phone_x.pk])
                raise RuntimeError("the write failed")
        except RuntimeError:
            pass
    assert client.get(path)[HEADER] == "hit"


def test_signed_in_users_never_get_a_cached_page(client, market, buyer, other_buyer):
    anonymous = client.get("/products/")
    assert anonymous[HEADER] == "miss"
    client.force_login(buyer)
    for _ in range(2):
        mine = client.get("/products/")
        assert mine[HEADER] == "bypass"
        assert "Log out" in mine.content.decode()
        assert "My orders" in mine.content.decode()
    assert 'name="csrfmiddlewaretoken" value=""' not in mine.content.decode()


def test_a_signed_in_page_is_never_shown_to_anyone_else(client, market, buyer):
    from django.test import Client

    client.force_login(buyer)
    client.get("/products/")
    client.get(f"/p/{market.phone_x.slug}/")
    visitor = Client()
    for path in ("/products/", f"/p/{market.phone_x.slug}/"):
        page = visitor.get(path)
        assert page[HEADER] == "miss"  # the signed-in render was not stored
        assert "Log out" not in page.content.decode()


def test_cached_pages_carry_no_csrf_token_and_set_no_cookie(client, market):
    response = client.get(f"/p/{market.phone_x.slug}/")
    html = response.content.decode()
    assert "csrftoken" not in response.cookies
    assert html.count('name="csrfmiddlewaretoken" value="" data-csrf') == 2  # language switch, add to cart
    assert "X-CSRFToken" not in html
    assert "/static/js/csrf.js" in html
    hit = client.get(f"/p/{market.phone_x.slug}/")
    assert "csrftoken" not in hit.cookies


def test_csrf_endpoint_sets_the_cookie_a_cached_form_needs(market):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    page = browser.get(f"/p/{market.phone_x.slug}/")
    assert page[HEADER] == "miss"
    response = browser.get("/csrf/")
    assert response.status_code == 204
    token = response.cookies["csrftoken"].value
    variant = market.phone_x.variants.filter(stock__gt=0).first()
    added = browser.post("/cart/add/", {"variant": variant.pk, "quantity": 1, "csrfmiddlewaretoken": token})
    assert added.status_code in (200, 302)  # the token from the cookie passes the CSRF check
    refused = Client(enforce_csrf_checks=True).post("/cart/add/", {"variant": variant.pk, "quantity": 1})
    assert refused.status_code == 403


def test_pages_with_messages_are_neither_served_from_nor_stored_in_the_cache(client, market):
    from django.test import Client

    client.get("/products/")
    storage = CookieStorage(RequestFactory().get("/"))
    client.cookies["messages"] = storage._encode([Message(constants.SUCCESS, "Added to your cart.")])
    with_message = client.get("/products/")
    assert with_message[HEADER] == "bypass"
    assert "Added to your cart." in with_message.content.decode()
    assert "Added to your cart." not in Client().get("/products/").content.decode()


def test_cache_off_by_setting(client, market, settings):
    settings.PAGE_CACHE_ENABLED = False
    client.get("/products/")
    assert client.get("/products/")[HEADER] == "bypass"


def test_error_pages_are_not_cached(client, market, django_capture_on_commit_callbacks):
    product = make_product(vendor=market.shop_a, title="Later", status=Product.Status.DRAFT)
    assert client.get(f"/p/{product.slug}/").status_code == 404
    change(
        django_capture_on_commit_callbacks,
        lambda: Product.objects.filter(pk=product.pk).update(status=Product.Status.ACTIVE),
        [product.pk],
    )
    assert client.get(f"/p/{product.slug}/").status_code == 200


# --- The facet counts cache (page cache off) ------------------------------------------------


@pytest.fixture
def counts_cache_on(settings):
    settings.PAGE_CACHE_ENABLED = False
    settings.CATALOG_COUNTS_CACHE_SECONDS = 60


def in_stock_count(response) -> int:
    return response.context["facets"].in_stock


@pytest.mark.django_db(transaction=True)
def test_listing_counts_are_cached_between_requests(
    client, counts_cache_on, shop_a, shop_b, django_assert_max_num_queries
):
    make_market(shop_a=shop_a, shop_b=shop_b)
    first = client.get("/products/")
    assert first.context["page"].paginator.count == 5
    # The newest-rows guard and the page rows: categories and counts come from the cache.
    with django_assert_max_num_queries(2):
        second = client.get("/products/")
    assert second.context["page"].paginator.count == 5
    assert in_stock_count(second) == 4


@pytest.mark.django_db(transaction=True)
def test_cached_counts_move_with_committed_changes(client, counts_cache_on, shop_a, shop_b):
    market = make_market(shop_a=shop_a, shop_b=shop_b)
    assert in_stock_count(client.get("/products/")) == 4
    with transaction.atomic():  # as the order services sell out a product
        ProductVariant.objects.filter(product=market.phone_y).update(stock=0)
        Product.objects.filter(pk=market.phone_y.pk).update(total_stock=0)
        products_changed(product_ids=[market.phone_y.pk])
    assert in_stock_count(client.get("/products/")) == 3


@pytest.mark.django_db(transaction=True)
def test_cached_counts_see_products_added_without_services(client, counts_cache_on, shop_a, shop_b):
    make_market(shop_a=shop_a, shop_b=shop_b)
    assert client.get("/products/").context["page"].paginator.count == 5
    make_product(vendor=shop_a, title="Brand new")
    response = client.get("/products/")
    assert response.context["page"].paginator.count == 6
    assert "Brand new" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_api_list_count_uses_the_same_counts(counts_cache_on, shop_a, shop_b):
    from rest_framework.test import APIClient

    make_market(shop_a=shop_a, shop_b=shop_b)
    api = APIClient()
    assert api.get("/api/v1/products/").json()["count"] == 5
    assert api.get("/api/v1/products/", {"in_stock": "1"}).json()["count"] == 4


def test_suspending_a_shop_through_shop_changed_drops_its_pages(client, market, django_capture_on_commit_callbacks):
    from catalog.cache import shop_changed
    from vendors.models import Vendor

    product_path = f"/p/{market.phone_x.slug}/"
    client.get(product_path)
    client.get("/products/")
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            Vendor.objects.filter(pk=market.shop_b.pk).update(status=Vendor.Status.SUSPENDED)
            shop_changed(vendor_id=market.shop_b.pk)
    assert client.get(product_path).status_code == 404
    assert "Phone X" not in client.get("/products/").content.decode()


def test_a_cached_page_keeps_its_content_headers(client, market):
    client.get("/products/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    hit = client.get("/products/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert hit[HEADER] == "hit"
    assert hit["Content-Type"] == "text/html; charset=utf-8"
    assert hit["Content-Language"] == "zh-hans"
    assert "Accept-Language" in hit["Vary"]


@pytest.mark.django_db(transaction=True)
def test_search_ranking_is_cached_and_moves_with_changes(
    client, counts_cache_on, shop_a, django_assert_max_num_queries
):
    low = make_product(vendor=shop_a, title="Kettle", description="Goes with a teapot.")
    high = make_product(vendor=shop_a, title="Teapot")
    ids = [p.pk for p in client.get("/search/?q=teapot").context["products"]]
    assert ids == [high.pk, low.pk]
    # The newest-rows guard and the page's rows: categories, counts and ranking are cached.
    with django_assert_max_num_queries(2):
        again = client.get("/search/?q=teapot")
    assert [p.pk for p in again.context["products"]] == ids
    with transaction.atomic():  # the teapot is renamed by its shop
        Product.objects.filter(pk=high.pk).update(title_en="Tea kettle")
        from catalog.tests.factories import product_derive

        product_derive(Product.objects.get(pk=high.pk))
        products_changed(product_ids=[high.pk])
    assert [p.pk for p in client.get("/search/?q=teapot").context["products"]] == [low.pk]


@pytest.mark.django_db(transaction=True)
def test_cached_category_tree_sees_categories_added_without_services(client, counts_cache_on):
    from catalog.tests.factories import CategoryFactory, make_category

    make_category("Food")
    assert client.get("/c/food/").status_code == 200
    assert client.get("/c/snacks/").status_code == 404
    CategoryFactory(name="Snacks", slug="snacks")
    assert client.get("/c/snacks/").status_code == 200
