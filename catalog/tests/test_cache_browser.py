"""In a real browser: a page served from the shared page cache carries no CSRF token, and its
forms still work (static/js/csrf.js fills the token in from the cookie)."""

import pytest
from django.db import transaction

from catalog.cache import HEADER, products_changed
from catalog.tests.factories import make_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cached_product(settings, shop_a):
    from django.core.cache import cache

    settings.PAGE_CACHE_ENABLED = True
    cache.clear()
    product = make_product(
        vendor=shop_a, title="Cached teapot", variants=[{"sku": "CT-1", "price": "88.00", "stock": 5}]
    )
    with transaction.atomic():  # as the service that created it: the page's version starts
        products_changed(product_ids=[product.pk])
    return product


def test_add_to_cart_from_a_cached_product_page(live_server, cached_product, chromium):
    url = f"{live_server.url}/p/{cached_product.slug}/"
    warm = chromium.new_context()
    assert warm.new_page().goto(url).headers[HEADER.lower()] == "miss"
    warm.close()

    visitor = chromium.new_context()  # another visitor, no cookies yet
    page = visitor.new_page()
    response = page.goto(url)
    assert response.headers[HEADER.lower()] == "hit"
    assert "csrftoken" not in (response.headers.get("set-cookie") or "")
    page.wait_for_function(
        "document.querySelector('[data-testid=add-to-cart-form] input[name=csrfmiddlewaretoken]').value !== ''"
    )
    page.click("[data-testid=add-to-cart]")
    page.wait_for_selector("[data-testid=cart-added]")
    assert "Added to your cart" in page.inner_text("#cart-result")
    page.goto(f"{live_server.url}/cart/")
    assert "Cached teapot" in page.content()
    visitor.close()


def test_language_switch_from_a_cached_page(live_server, cached_product, chromium):
    url = f"{live_server.url}/products/"
    warm = chromium.new_context()
    for _ in range(2):
        warm.new_page().goto(url)
    warm.close()
    visitor = chromium.new_context()
    page = visitor.new_page()
    assert page.goto(url).headers[HEADER.lower()] == "hit"
    page.wait_for_function("document.querySelector('.langswitch input[name=csrfmiddlewaretoken]').value !== ''")
    with page.expect_navigation():
        page.select_option(".langswitch select", "zh-hans")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    visitor.close()
