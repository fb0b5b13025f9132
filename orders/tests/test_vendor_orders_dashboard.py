"""The shop's order pages in the dashboard: to ship, detail, mark shipped; its own orders only."""

import pytest
from django.test import Client

from catalog.tests.factories import VariantFactory
from orders.models import OrderEvent, VendorOrder
from orders.services.fulfilment import order_mark_paid, vendor_order_ship
from orders.tests.fulfilment_factories import order_for, placed_order

pytestmark = pytest.mark.django_db
VO = VendorOrder.Status


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def paid_part(buyer, vendor, **kwargs) -> VendorOrder:
    order = order_for(buyer=buyer, vendors=[vendor], **kwargs)
    order_mark_paid(order=order, payment_reference=f"PAY-{order.number}")
    return order.vendor_orders.get()


@pytest.fixture
def to_ship(buyer, shop_a):
    return paid_part(buyer, shop_a)


def test_orders_page_lists_orders_to_ship_by_default(owner_a, buyer, shop_a, to_ship):
    unpaid = order_for(buyer=buyer, vendors=[shop_a]).vendor_orders.get()

    page = logged_in(owner_a).get("/dashboard/orders/")

    html = page.content.decode()
    assert page.status_code == 200
    assert to_ship.number in html
    assert unpaid.number not in html
    assert "To ship (1)" in html and "Awaiting payment (1)" in html


def test_status_tabs_filter_the_list(owner_a, buyer, shop_a, to_ship):
    shipped = paid_part(buyer, shop_a)
    vendor_order_ship(vendor_order=shipped, actor=owner_a, carrier="SF", tracking_number="SF1")

    html = logged_in(owner_a).get("/dashboard/orders/?status=shipped").content.decode()

    assert shipped.number in html and to_ship.number not in html
    everything = logged_in(owner_a).get("/dashboard/orders/?status=all").content.decode()
    assert shipped.number in everything and to_ship.number in everything
    # An unknown tab falls back to the default.
    assert to_ship.number in logged_in(owner_a).get("/dashboard/orders/?status=bogus").content.decode()


def test_every_role_of_the_shop_may_work_on_orders(to_ship, owner_a, manager_a, staff_a):
    for member in (owner_a, manager_a, staff_a):
        client = logged_in(member)
        assert to_ship.number in client.get("/dashboard/orders/").content.decode()
        assert client.get(f"/dashboard/orders/{to_ship.number}/").status_code == 200


def test_order_list_runs_a_fixed_number_of_queries(owner_a, buyer, shop_a, django_assert_max_num_queries):
    client = logged_in(owner_a)
    budget = 9
    for _ in range(3):
        paid_part(buyer, shop_a)
    with django_assert_max_num_queries(budget) as few_queries:
        few = client.get("/dashboard/orders/")
    assert few.content.decode().count('data-testid="order-row"') == 3

    for _ in range(22):
        order = placed_order(
            buyer=buyer,
            items={shop_a: [(VariantFactory(product__vendor=shop_a), 1), (VariantFactory(product__vendor=shop_a), 2)]},
        )
        order_mark_paid(order=order, payment_reference=f"PAY-{order.number}")
    with django_assert_max_num_queries(budget) as many_queries:
        many = client.get("/dashboard/orders/")
    assert len(many_queries.captured_queries) == len(few_queries.captured_queries)
    assert many.content.decode().count('data-testid="order-row"') == 20  # one page
    assert "Page 1 of 2" in many.content.decode()
    assert logged_in(owner_a).get("/dashboard/orders/?page=2").content.decode().count('data-testid="order-row"') == 5


def test_detail_shows_lines_address_and_timeline(owner_a, to_ship):
    html = logged_in(owner_a).get(f"/dashboard/orders/{to_ship.number}/").content.decode()

    line = to_ship.lines.get()
    assert line.product_title in html and line.sku in html
    assert "88 Tianyaoqiao Road" in html and "13800000000" in html
    assert "Order placed" in html and "Paid" in html
    assert 'data-testid="ship-form"' in html


def test_address_is_hidden_until_the_buyer_pays(owner_a, buyer, shop_a):
    unpaid = order_for(buyer=buyer, vendors=[shop_a]).vendor_orders.get()

    html = logged_in(owner_a).get(f"/dashboard/orders/{unpaid.number}/").content.decode()

    assert "88 Tianyaoqiao Road" not in html
    assert 'data-testid="ship-form"' not in html


def test_timeline_shows_no_events_of_other_shops_in_the_same_order(owner_a, owner_b, buyer, shop_a, shop_b):
    order = order_for(buyer=buyer, vendors=[shop_a, shop_b])
    order_mark_paid(order=order, payment_reference="PAY-X")
    theirs = order.vendor_orders.get(vendor=shop_b)
    vendor_order_ship(vendor_order=theirs, actor=owner_b, carrier="Secret Carrier", tracking_number="SECRET-42")

    html = (
        logged_in(owner_a).get(f"/dashboard/orders/{order.vendor_orders.get(vendor=shop_a).number}/").content.decode()
    )

    assert "SECRET-42" not in html and "Secret Carrier" not in html


def test_mark_shipped_form_ships_and_notifies(staff_a, to_ship):
    client = logged_in(staff_a)

    response = client.post(
        f"/dashboard/orders/{to_ship.number}/ship/",
        {"carrier": "SF Express 顺丰", "tracking_number": "SF100200300"},
        follow=True,
    )

    to_ship.refresh_from_db()
    assert to_ship.status == VO.SHIPPED and to_ship.tracking_number == "SF100200300"
    html = response.content.decode()
    assert "Marked as shipped" in html and "SF100200300" in html
    assert to_ship.order.buyer.notifications.filter(kind="vendor_order.shipped").count() == 1


def test_mark_shipped_without_tracking_shows_a_form_error(owner_a, to_ship):
    response = logged_in(owner_a).post(
        f"/dashboard/orders/{to_ship.number}/ship/", {"carrier": "SF", "tracking_number": ""}
    )

    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    to_ship.refresh_from_db()
    assert to_ship.status == VO.PAID


def test_shipping_twice_shows_a_message_and_changes_nothing(owner_a, to_ship):
    client = logged_in(owner_a)
    client.post(f"/dashboard/orders/{to_ship.number}/ship/", {"carrier": "SF", "tracking_number": "1"})

    response = client.post(
        f"/dashboard/orders/{to_ship.number}/ship/", {"carrier": "ZTO", "tracking_number": "2"}, follow=True
    )

    assert "Cannot change shop order" in response.content.decode()
    to_ship.refresh_from_db()
    assert (to_ship.carrier, to_ship.tracking_number) == ("SF", "1")
    assert OrderEvent.objects.filter(vendor_order=to_ship, type="shipped").count() == 1


@pytest.mark.parametrize("who", ["other_shop_owner", "buyer", "anonymous"])
def test_outsiders_are_refused_on_every_dashboard_order_url(who, request, to_ship):
    client = {
        "other_shop_owner": lambda: logged_in(request.getfixturevalue("owner_b")),
        "buyer": lambda: logged_in(request.getfixturevalue("buyer")),
        "anonymous": Client,
    }[who]()
    urls = [
        ("get", "/dashboard/orders/"),
        ("get", f"/dashboard/orders/{to_ship.number}/"),
        ("post", f"/dashboard/orders/{to_ship.number}/ship/"),
    ]

    for method, url in urls:
        response = getattr(client, method)(
            url, {"carrier": "SF", "tracking_number": "HACK"} if method == "post" else None
        )
        if who == "anonymous":
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
        elif who == "other_shop_owner" and url == "/dashboard/orders/":
            # Their own (empty) list: nothing of shop A in it.
            assert response.status_code == 200 and to_ship.number not in response.content.decode()
        else:
            assert response.status_code == 404, url
    to_ship.refresh_from_db()
    assert to_ship.status == VO.PAID and to_ship.tracking_number == ""
