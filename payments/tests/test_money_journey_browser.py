"""The money journey in a real headless Chromium: a buyer pays an order of Tea House in the
sandbox gateway, the shop ships it, the buyer confirms receipt; the return window passes (time
travel: the delivery is moved into the past), the settlement run settles it; the owner finds the
settlement on the statement, asks for a payout of everything available and sees it paid; the
ledger still holds every invariant."""

import re
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from catalog.tests.factories import make_product
from marketplace.money import format_money
from orders.models import Order, VendorOrder
from orders.services.fulfilment import vendor_order_complete
from orders.tests.factories import AddressFactory
from payments import ledger
from payments.models import Payment, Payout, Settlement
from payments.tests.money_helpers import owed_to

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREENSHOT = "/tmp/h10_statement.png"


def log_in(page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def shop_share(shop, purpose: str):
    return owed_to(ledger.VENDOR, shop.pk, purpose)


def test_paid_order_is_settled_after_the_return_window_and_paid_out_to_the_shop(
    page, chromium, live_server, buyer, shop_a, owner_a, password
):
    tea = make_product(
        vendor=shop_a,
        title="Longjing Green Tea 250g",
        variants=[{"sku": "LJ-250", "price": "128.00", "stock": 5}],
    )
    AddressFactory(user=buyer)

    # The buyer puts the tea in the cart, checks out and pays once in the sandbox gateway.
    log_in(page, buyer.email, password)
    page.goto(f"/p/{tea.slug}/")
    page.get_by_test_id("add-to-cart").click()
    expect(page.get_by_test_id("cart-added")).to_be_visible()
    page.goto("/checkout/")
    expect(page.get_by_test_id("grand-total")).to_contain_text("128.00")  # free shipping over 99
    page.get_by_test_id("place-order").click()
    page.wait_for_url(re.compile(r"/payments/start/"))
    page.get_by_test_id("pay-now").click()
    page.wait_for_url(re.compile(r"/payments/sandbox/"))
    expect(page.get_by_test_id("sandbox-amount")).to_contain_text("128.00")
    page.get_by_test_id("sandbox-pay").click()
    expect(page.locator("[data-testid=payment-result][data-state=received]")).to_be_visible(timeout=20_000)

    order = Order.objects.get(buyer=buyer)
    vendor_order = order.vendor_orders.get()
    assert Payment.objects.get(order=order).status == Payment.Status.CAPTURED
    pending_share = shop_share(shop_a, ledger.PENDING)
    assert pending_share > 0 and shop_share(shop_a, ledger.AVAILABLE) == 0

    # The owner ships it from the dashboard, in their own browser.
    owner_context = chromium.new_context(base_url=live_server.url, locale="en-US")
    owner_context.set_default_timeout(15_000)
    owner = owner_context.new_page()
    log_in(owner, owner_a.email, password)
    owner.goto("/dashboard/orders/")
    owner.get_by_role("link", name=re.compile(vendor_order.number)).first.click()
    owner.fill("input[name=carrier]", "SF Express")
    owner.fill("input[name=tracking_number]", "SF1234567890")
    owner.get_by_test_id("mark-shipped").click()
    expect(owner.get_by_test_id("order-status")).to_contain_text("Shipped")

    # The buyer sees the tracking number and confirms receipt.
    page.goto(f"/orders/{order.number}/")
    expect(page.get_by_test_id("tracking")).to_contain_text("SF1234567890")
    page.get_by_test_id("confirm-receipt").click()
    expect(page.get_by_test_id("vendor-order-status")).to_contain_text("Delivered")

    # Time travel: the order is completed and its delivery lies past the return window.
    vendor_order.refresh_from_db()
    if vendor_order.status != VendorOrder.Status.COMPLETED:
        vendor_order_complete(vendor_order=vendor_order)
    long_ago = timezone.now() - timedelta(days=settings.RETURN_WINDOW_DAYS + 1)
    VendorOrder.objects.filter(pk=vendor_order.pk).update(delivered_at=long_ago, completed_at=long_ago)

    out = StringIO()
    call_command("settle", stdout=out)
    assert out.getvalue().startswith("Settled 1 shop orders"), out.getvalue()
    settlement = Settlement.objects.get(vendor_order=vendor_order)
    share = settlement.vendor_amount
    assert share == pending_share
    assert shop_share(shop_a, ledger.PENDING) == 0
    assert shop_share(shop_a, ledger.AVAILABLE) == share

    # The owner opens Earnings, then the statement: the settlement with the order and the share.
    owner.goto("/dashboard/")
    owner.get_by_role("navigation", name="Seller centre").get_by_role("link", name="Earnings", exact=True).click()
    owner.wait_for_url(re.compile(r"/dashboard/earnings/$"))
    expect(owner.get_by_test_id("balance-CNY").get_by_test_id("available")).to_have_text(format_money(share))
    owner.get_by_role("main").get_by_role("link", name="Statements").last.click()
    owner.wait_for_url(re.compile(r"/dashboard/earnings/statement/"))
    settled_row = owner.locator("[data-testid=movement][data-kind=settlement]")
    expect(settled_row).to_have_count(1)
    expect(settled_row).to_contain_text("Settled: made available")
    expect(settled_row.get_by_role("link", name=vendor_order.number)).to_be_visible()
    expect(settled_row.locator("td").nth(5)).to_have_text(format_money(share))  # the "Available" column
    closing_available = owner.get_by_test_id("closing").locator("td").nth(5)
    expect(closing_available).to_have_text(format_money(shop_share(shop_a, ledger.AVAILABLE)))
    owner.screenshot(path=SCREENSHOT, full_page=True)

    # The owner asks for everything available; the sandbox pays it out to the shop's account.
    owner.get_by_role("navigation", name="Seller centre").get_by_role("link", name="Payouts").click()
    owner.wait_for_url(re.compile(r"/dashboard/earnings/payouts/$"))
    owner.get_by_role("button", name="Request payout").click()
    expect(owner.locator(".messages")).to_contain_text(re.compile(r"Payout PO-\w+ of .+ requested\."))
    payout = Payout.objects.get(owner_type=ledger.VENDOR, owner_key=str(shop_a.pk))
    expect(owner.locator(".messages")).to_contain_text(f"Payout {payout.reference} of {share} CNY requested.")
    row = owner.get_by_test_id("payout-row")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-status", "paid")  # the eager worker sent it after the commit
    expect(row).to_contain_text(payout.reference)
    expect(row).to_contain_text(format_money(share))
    expect(row).to_contain_text("Paid")
    expect(owner.get_by_test_id("balance-CNY").get_by_test_id("available")).to_have_text(format_money(Decimal(0)))
    owner_context.close()

    payout.refresh_from_db()
    assert (payout.status, payout.amount, payout.requested_by) == (Payout.Status.PAID, share, owner_a)
    assert shop_share(shop_a, ledger.AVAILABLE) == 0
    assert shop_share(shop_a, ledger.PAYOUT) == 0

    out = StringIO()
    call_command("ledger_check", stdout=out)
    assert out.getvalue().startswith("OK"), out.getvalue()
