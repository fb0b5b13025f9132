"""In a real browser: a page served from the shared page cache carries no CSRF token, and its
forms still work (static/js/csrf.js fills the token in from the cookie)."""

import shutil
import time

import pytest
from django.db import connections, transaction

from catalog.cache import HEADER, products_changed
from catalog.tests.factories import make_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser(monkeypatch):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (make browser installs it)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's ORM calls are
    # still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()
        # Code run while Playwright's loop is up has its own database connection: close it.
        connections.close_all()
    # Let the live server's request threads see their sockets close and drop their database
    # connections before the test database is torn down.
    time.sleep(0.5)


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


def test_add_to_cart_from_a_cached_product_page(live_server, cached_product, browser):
    url = f"{live_server.url}/p/{cached_product.slug}/"
    warm = browser.new_page()
    assert warm.goto(url).headers[HEADER.lower()] == "miss"
    warm.close()

    page = browser.new_context().new_page()  # another visitor, no cookies yet
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


def test_language_switch_from_a_cached_page(live_server, cached_product, browser):
    url = f"{live_server.url}/products/"
    for _ in range(2):
        browser.new_page().goto(url)
    page = browser.new_context().new_page()
    assert page.goto(url).headers[HEADER.lower()] == "hit"
    page.wait_for_function("document.querySelector('.langswitch input[name=csrfmiddlewaretoken]').value !== ''")
    with page.expect_navigation():
        page.select_option(".langswitch select", "zh-hans")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
