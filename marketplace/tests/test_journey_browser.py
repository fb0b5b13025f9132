"""The whole marketplace journey in a real headless Chromium: a visitor searches in English and
in Chinese, fills one cart from two shops, signs up, checks out, pays once in the sandbox
gateway, sees two shop parts; each shop ships its part; the buyer confirms receipt of both."""

import re

import pytest
from playwright.sync_api import expect

from catalog.tests.factories import make_category, make_product
from orders.models import Order, VendorOrder

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def log_in(page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


def add_first_result_to_cart(page, query: str, title: str) -> None:
    page.goto("/")
    page.fill("header input[name=q]", query)
    page.press("header input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"/search/\?q="))
    page.get_by_role("link", name=title).first.click()
    page.wait_for_url(re.compile(r"/p/"))
    page.get_by_test_id("add-to-cart").click()
    expect(page.get_by_test_id("cart-added")).to_be_visible()


def test_visitor_to_delivered_order_across_two_shops(
    page, chromium, live_server, shop_a, shop_b, owner_a, owner_b, password
):
    tea = make_category("Tea 茶叶", slug="tea")
    audio = make_category("Audio 音频", slug="audio")
    make_product(
        vendor=shop_a,
        category=audio,
        title="Aurora Wireless Earbuds",
        variants=[{"sku": "AUR-1", "price": "199.00", "stock": 5}],
    )
    make_product(
        vendor=shop_b,
        category=tea,
        title="西湖龙井 明前特级绿茶 250g",
        variants=[{"sku": "LJ-250", "price": "68.00", "stock": 5}],
    )

    # A visitor finds one product by an English word and one by a Chinese word.
    add_first_result_to_cart(page, "earbuds", "Aurora Wireless Earbuds")
    add_first_result_to_cart(page, "龙井", "西湖龙井 明前特级绿茶 250g")
    page.goto("/cart/")
    expect(page.get_by_test_id("cart-shop")).to_have_count(2)

    # Checking out asks to log in; the visitor signs up instead and keeps the cart.
    page.get_by_test_id("checkout-link").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.goto("/accounts/signup/?next=/checkout/")
    page.fill("input[name=email]", "new.buyer@example.com")
    page.fill("input[name=password1]", "a-long-new-password-7")
    page.fill("input[name=password2]", "a-long-new-password-7")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/checkout/"))

    # An address for the address book, then one payment for both shops.
    page.get_by_test_id("add-address").click()
    page.fill("input[name=recipient]", "Wang Fang")
    page.fill("input[name=phone]", "13912345678")
    page.fill("input[name=region]", "浙江省")
    page.fill("input[name=city]", "杭州市")
    page.fill("input[name=street]", "文三路 100 号")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/checkout/"))
    expect(page.get_by_test_id("checkout-shop")).to_have_count(2)
    page.get_by_test_id("place-order").click()
    page.wait_for_url(re.compile(r"/payments/start/"))
    page.get_by_test_id("pay-now").click()
    page.wait_for_url(re.compile(r"/payments/sandbox/"))
    expect(page.get_by_test_id("sandbox-amount")).to_contain_text(
        "279.00"
    )  # 199 + 68 + shipping: shop A free over 99, shop B 12
    page.get_by_test_id("sandbox-pay").click()
    expect(page.locator("[data-testid=payment-result][data-state=received]")).to_be_visible(timeout=20_000)

    order = Order.objects.get(buyer__email="new.buyer@example.com")
    assert order.status == Order.Status.PAID
    page.goto(f"/orders/{order.number}/")
    parts = page.get_by_test_id("vendor-order")
    expect(parts).to_have_count(2)
    expect(page.get_by_test_id("vendor-order-status").first).to_contain_text("Paid")

    # Each shop ships its own part from its dashboard.
    for owner in (owner_a, owner_b):
        context = chromium.new_context(base_url=live_server.url)
        vendor_page = context.new_page()
        log_in(vendor_page, owner.email, password)
        vendor_page.goto("/dashboard/orders/")
        vendor_page.get_by_role("link", name=re.compile(order.number)).first.click()
        vendor_page.fill("input[name=carrier]", "SF Express")
        vendor_page.fill("input[name=tracking_number]", f"SF{owner.pk}000123")
        vendor_page.get_by_test_id("mark-shipped").click()
        expect(vendor_page.get_by_test_id("order-status")).to_contain_text("Shipped")
        context.close()
    assert set(VendorOrder.objects.filter(order=order).values_list("status", flat=True)) == {"shipped"}

    # The buyer sees the tracking numbers and confirms receipt of both parts.
    page.goto(f"/orders/{order.number}/")
    expect(page.get_by_test_id("tracking")).to_have_count(2)
    for _ in range(2):
        page.get_by_test_id("confirm-receipt").first.click()
        page.wait_for_load_state()
    assert set(VendorOrder.objects.filter(order=order).values_list("status", flat=True)) == {"delivered"}
    expect(page.get_by_test_id("vendor-order-status")).to_have_text([re.compile("Delivered")] * 2)
