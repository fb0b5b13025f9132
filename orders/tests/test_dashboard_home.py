"""The dashboard home: what to ship, and the last 30 days of sales with a chart."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from catalog.tests.factories import VariantFactory
from orders.models import VendorOrder
from orders.services.fulfilment import order_mark_paid, vendor_order_ship
from orders.tests.fulfilment_factories import order_for, placed_order

pytestmark = pytest.mark.django_db
VO = VendorOrder.Status


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def paid(order, *, days_ago: int = 0) -> VendorOrder:
    order_mark_paid(order=order, payment_reference=f"PAY-{order.number}")
    when = timezone.now() - timedelta(days=days_ago)
    VendorOrder.objects.filter(order=order).update(paid_at=when)
    return order.vendor_orders.get()


@pytest.fixture
def sales(buyer, shop_a, shop_b, owner_a):
    """Shop A: three paid orders this month (one shipped), one paid 40 days ago, one unpaid, one
    cancelled; shop B: a big order that must not count for A."""
    tea = VariantFactory(product__vendor=shop_a, product__title="Longjing green tea", price="120.00")
    cup = VariantFactory(product__vendor=shop_a, product__title="Celadon cup", price="30.00")
    paid(placed_order(buyer=buyer, items={shop_a: [(tea, 2), (cup, 1)]}), days_ago=1)  # 270 + 10
    shipped = paid(placed_order(buyer=buyer, items={shop_a: [(tea, 1)]}), days_ago=3)  # 120 + 10
    vendor_order_ship(vendor_order=shipped, actor=owner_a, carrier="SF", tracking_number="1")
    paid(placed_order(buyer=buyer, items={shop_a: [(cup, 3)]}), days_ago=0)  # 90 + 10
    paid(placed_order(buyer=buyer, items={shop_a: [(tea, 5)]}), days_ago=40)
    placed_order(buyer=buyer, items={shop_a: [(tea, 7)]})
    cancelled = placed_order(buyer=buyer, items={shop_a: [(tea, 9)]})
    VendorOrder.objects.filter(order=cancelled).update(status=VO.CANCELLED, paid_at=timezone.now())
    paid(order_for(buyer=buyer, vendors=[shop_b], quantity=50, price="999.00"))


def test_home_shows_last_30_days_of_sales(owner_a, sales):
    page = logged_in(owner_a).get("/dashboard/")

    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r'data-testid="sales-revenue">¥510.00<', html)  # 280 + 130 + 100
    assert re.search(r'data-testid="sales-orders">3<', html)
    assert re.search(r'data-testid="sales-units">7<', html)  # 2 + 1 + 1 + 3
    assert re.search(r'data-testid="count-to-ship">3<', html)  # the 40-day-old one still waits too
    assert re.search(r'data-testid="count-shipped">1<', html)


def test_home_chart_is_inline_svg_with_a_bar_per_day(owner_a, sales):
    html = logged_in(owner_a).get("/dashboard/").content.decode()

    svg = html[html.index('<svg role="img"') : html.index("</svg>")]
    heights = [int(h) for h in re.findall(r'<rect [^>]*height="(\d+)"', svg)]
    assert len(heights) == 30
    assert sum(1 for h in heights if h > 0) == 3
    assert max(heights) == 160  # the best day fills the chart
    assert heights[-1] > 0 and heights[-2] == 160  # today, and yesterday's ¥280
    assert "<script" not in svg


def test_home_lists_top_products(owner_a, sales):
    html = logged_in(owner_a).get("/dashboard/").content.decode()

    top = html[html.index('data-testid="top-products"') :]
    assert top.index("Celadon cup") < top.index("Longjing green tea")  # 4 cups, 3 teas
    assert "¥120.00" in top and "¥360.00" in top


def test_home_of_a_new_shop_has_no_sales(owner_b):
    html = logged_in(owner_b).get("/dashboard/").content.decode()

    assert re.search(r'data-testid="sales-revenue">¥0.00<', html)
    assert "No sales yet" in html


def test_staff_sees_the_home_too(staff_a, sales):
    assert logged_in(staff_a).get("/dashboard/").status_code == 200


def test_home_runs_a_fixed_number_of_queries(owner_a, sales, buyer, shop_a, django_assert_max_num_queries):
    client = logged_in(owner_a)
    with django_assert_max_num_queries(9) as before:
        client.get("/dashboard/")
    for _ in range(10):
        paid(order_for(buyer=buyer, vendors=[shop_a]), days_ago=5)
    with django_assert_max_num_queries(9) as after:
        client.get("/dashboard/")
    assert len(after.captured_queries) == len(before.captured_queries)


def test_home_sends_non_sellers_to_open_a_shop_and_visitors_to_log_in(buyer):
    assert logged_in(buyer).get("/dashboard/")["Location"] == "/sell/apply/"
    anonymous = Client().get("/dashboard/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
