"""The cart across shops: adding, quantities and their limits, merge at log-in, the cart page."""

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Product
from catalog.tests.factories import VariantFactory
from marketplace.errors import InvalidQuantity, NotFound, OutOfStock, Unavailable
from orders.models import Cart, CartLine
from orders.selectors import cart_summary
from orders.services.cart import (
    cart_add_line,
    cart_get_or_create,
    cart_merge_on_login,
    cart_remove_line,
    cart_set_quantity,
)


@pytest.fixture
def tea(shop_a):
    return VariantFactory(
        product__vendor=shop_a, product__title="Longjing green tea", sku="TEA-1", price="45.00", stock=5
    )


@pytest.fixture
def ball(shop_b):
    return VariantFactory(product__vendor=shop_b, product__title="Basketball", sku="BALL-1", price="120.00", stock=3)


@pytest.fixture
def cart(buyer):
    return cart_get_or_create(user=buyer, session_key=None)


def test_adding_twice_adds_to_the_same_line(cart, tea):
    cart_add_line(cart=cart, variant_id=tea.pk, quantity=2)
    line = cart_add_line(cart=cart, variant_id=str(tea.pk), quantity="1")
    assert line.quantity == 3
    assert CartLine.objects.filter(cart=cart).count() == 1
    assert line.price_when_added == Decimal("45.00")


@pytest.mark.parametrize("quantity", [-1, 0, "0", 10**12, "10000000000000", "abc", "", None, "2.5", 1.0, True, "1e3"])
def test_bad_quantities_are_refused_with_a_clear_message(cart, tea, quantity):
    with pytest.raises(InvalidQuantity) as error:
        cart_add_line(cart=cart, variant_id=tea.pk, quantity=quantity)
    assert str(error.value) == "Quantity must be a whole number between 1 and 999."
    assert not CartLine.objects.exists()


def test_quantity_above_the_line_limit_is_refused(cart, tea, settings):
    settings.CART_MAX_LINE_QUANTITY = 4
    cart_add_line(cart=cart, variant_id=tea.pk, quantity=3)
    with pytest.raises(InvalidQuantity, match="between 1 and 4"):
        cart_add_line(cart=cart, variant_id=tea.pk, quantity=2)
    assert CartLine.objects.get().quantity == 3


def test_more_than_the_stock_is_refused(cart, tea):
    cart_add_line(cart=cart, variant_id=tea.pk, quantity=4)
    with pytest.raises(OutOfStock) as error:
        cart_add_line(cart=cart, variant_id=tea.pk, quantity=2)
    assert str(error.value) == "Not enough stock for TEA-1: 5 left, 6 requested."
    assert CartLine.objects.get().quantity == 4


@pytest.mark.parametrize("variant_id", [999999, "abc", -3, "", None, "1.5"])
def test_unknown_variants_are_not_found(cart, variant_id):
    with pytest.raises(NotFound, match="Product not found."):
        cart_add_line(cart=cart, variant_id=variant_id, quantity=1)


@pytest.mark.parametrize(
    "change",
    [
        {"product__is_banned": True},
        {"product__status": Product.Status.HIDDEN},
        {"is_active": False},
        {"product__vendor__status": "suspended"},
    ],
)
def test_variants_that_cannot_be_bought_are_unavailable(cart, change):
    variant = VariantFactory(product__title="Fake watch", name="", **change)
    with pytest.raises(Unavailable, match="Fake watch is no longer available."):
        cart_add_line(cart=cart, variant_id=variant.pk, quantity=1)
    assert not CartLine.objects.exists()


def test_set_quantity_and_remove(cart, tea):
    line = cart_add_line(cart=cart, variant_id=tea.pk, quantity=1)
    cart_set_quantity(cart=cart, line_id=line.pk, quantity="5")
    assert CartLine.objects.get().quantity == 5
    with pytest.raises(OutOfStock):
        cart_set_quantity(cart=cart, line_id=line.pk, quantity=6)
    with pytest.raises(InvalidQuantity):
        cart_set_quantity(cart=cart, line_id=line.pk, quantity=0)
    cart_remove_line(cart=cart, line_id=line.pk)
    assert not CartLine.objects.exists()


def test_another_cart_line_cannot_be_changed(cart, other_buyer, tea):
    other_cart = cart_get_or_create(user=other_buyer, session_key=None)
    other_line = cart_add_line(cart=other_cart, variant_id=tea.pk, quantity=1)
    with pytest.raises(NotFound):
        cart_set_quantity(cart=cart, line_id=other_line.pk, quantity=2)
    with pytest.raises(NotFound):
        cart_remove_line(cart=cart, line_id=other_line.pk)
    assert CartLine.objects.get(pk=other_line.pk).quantity == 1


def test_summary_groups_lines_by_shop_with_subtotals(cart, tea, ball):
    cart_add_line(cart=cart, variant_id=tea.pk, quantity=2)
    cart_add_line(cart=cart, variant_id=ball.pk, quantity=1)
    summary = cart_summary(cart)
    assert [group.vendor.name for group in summary.groups] == ["Panda Sports", "Tea House"]
    assert [group.subtotal for group in summary.groups] == [Decimal("120.00"), Decimal("90.00")]
    assert summary.items_total == Decimal("210.00")
    assert summary.item_count == 3


def test_merge_at_login_adds_quantities_capped_by_stock(buyer, tea, ball):
    account = cart_get_or_create(user=buyer, session_key=None)
    cart_add_line(cart=account, variant_id=tea.pk, quantity=3)
    visitor = cart_get_or_create(user=None, session_key="visitor-session")
    cart_add_line(cart=visitor, variant_id=tea.pk, quantity=4)
    cart_add_line(cart=visitor, variant_id=ball.pk, quantity=2)

    cart_merge_on_login(user=buyer, session_key="visitor-session")

    quantities = dict(CartLine.objects.filter(cart=account).values_list("variant__sku", "quantity"))
    assert quantities == {"TEA-1": 5, "BALL-1": 2}  # 3 + 4 capped at the 5 in stock
    assert not Cart.objects.filter(session_key="visitor-session").exists()


def test_merge_without_a_visitor_cart_changes_nothing(buyer):
    assert cart_merge_on_login(user=buyer, session_key="nothing-here") is None
    assert cart_merge_on_login(user=buyer, session_key=None) is None
    assert not Cart.objects.exists()


# --- Pages ---------------------------------------------------------------------------------
def test_visitor_adds_from_the_product_page_and_sees_the_cart(client, tea, ball):
    response = client.post(reverse("orders:cart_add"), {"variant": tea.pk, "quantity": "2", "next": "/p/x/"})
    assert response.status_code == 302 and response.url == "/p/x/"
    client.post(reverse("orders:cart_add"), {"variant": ball.pk})
    cart = Cart.objects.get(session_key=client.session.session_key)
    assert cart.user is None and cart.lines.count() == 2

    page = client.get("/cart/")
    html = page.content.decode()
    assert "Tea House" in html and "Panda Sports" in html
    assert "Longjing green tea" in html and "¥90.00" in html and "¥210.00" in html


@pytest.mark.parametrize(
    "data, message",
    [
        ({"variant": "999999", "quantity": "1"}, "Product not found."),
        ({"variant": "abc", "quantity": "1"}, "Product not found."),
        ({"quantity": "1"}, "Product not found."),
        ({"variant": "TEA", "quantity": "-1"}, "Quantity must be a whole number between 1 and 999."),
        ({"variant": "TEA", "quantity": "1000000000000"}, "Quantity must be a whole number between 1 and 999."),
        ({"variant": "TEA", "quantity": "abc"}, "Quantity must be a whole number between 1 and 999."),
        ({"variant": "TEA", "quantity": "6"}, "Not enough stock for TEA-1: 5 left, 6 requested."),
    ],
)
def test_bad_add_requests_come_back_as_messages(client, tea, data, message):
    if data.get("variant") == "TEA":
        data["variant"] = str(tea.pk)
    response = client.post(reverse("orders:cart_add"), data, follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CartLine.objects.exists()


def test_banned_product_cannot_be_added_from_the_page(client, tea):
    Product.objects.filter(pk=tea.product_id).update(is_banned=True)
    response = client.post(reverse("orders:cart_add"), {"variant": tea.pk, "quantity": "1"}, follow=True)
    assert "is no longer available" in response.content.decode()
    assert not CartLine.objects.exists()


def test_price_change_is_shown_on_the_cart_page(client, buyer, cart, tea):
    cart_add_line(cart=cart, variant_id=tea.pk, quantity=1)
    tea.price = Decimal("39.90")
    tea.save()
    client.force_login(buyer)
    html = client.get("/cart/").content.decode()
    assert "Price changed from ¥45.00 to ¥39.90." in html
    assert "¥39.90" in html


def test_unavailable_and_short_stock_lines_are_flagged(client, buyer, cart, tea, ball):
    cart_add_line(cart=cart, variant_id=tea.pk, quantity=4)
    cart_add_line(cart=cart, variant_id=ball.pk, quantity=1)
    tea.stock = 2
    tea.save()
    Product.objects.filter(pk=ball.product_id).update(is_banned=True)
    client.force_login(buyer)
    html = client.get("/cart/").content.decode()
    assert "Only 2 left in stock." in html
    assert "No longer available" in html
    assert 'data-testid="checkout-link"' not in html


def test_quantity_update_and_remove_on_the_page(client, buyer, cart, tea):
    line = cart_add_line(cart=cart, variant_id=tea.pk, quantity=1)
    client.force_login(buyer)
    response = client.post(reverse("orders:cart_line_update", args=[line.pk]), {"quantity": "3"})
    assert response.status_code == 302
    assert CartLine.objects.get().quantity == 3

    # htmx gets the cart body back, with the error message inside it
    response = client.post(
        reverse("orders:cart_line_update", args=[line.pk]), {"quantity": "99"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Not enough stock for TEA-1" in response.content.decode()
    assert 'id="cart-body"' in response.content.decode()
    assert CartLine.objects.get().quantity == 3

    client.post(reverse("orders:cart_line_remove", args=[line.pk]))
    assert not CartLine.objects.exists()


def test_another_visitors_line_cannot_be_removed_from_the_page(client, other_buyer, tea):
    other_cart = cart_get_or_create(user=other_buyer, session_key=None)
    line = cart_add_line(cart=other_cart, variant_id=tea.pk, quantity=1)
    response = client.post(reverse("orders:cart_line_remove", args=[line.pk]), follow=True)
    assert response.status_code == 200
    assert CartLine.objects.filter(pk=line.pk).exists()


def test_login_merges_the_visitor_cart(client, buyer, password, tea):
    client.post(reverse("orders:cart_add"), {"variant": tea.pk, "quantity": "2"})
    response = client.post(reverse("account_login"), {"login": buyer.email, "password": password})
    assert response.status_code == 302
    assert Cart.objects.get(user=buyer).lines.get().quantity == 2
    assert not Cart.objects.filter(user__isnull=True).exists()


@pytest.mark.parametrize("line_count", [2, 12])
def test_cart_page_runs_a_fixed_number_of_queries(client, buyer, cart, django_assert_max_num_queries, line_count):
    for _index in range(line_count):
        cart_add_line(cart=cart, variant_id=VariantFactory().pk, quantity=1)
    client.force_login(buyer)
    with django_assert_max_num_queries(6):
        response = client.get("/cart/")
    assert response.content.decode().count('data-testid="cart-line"') == line_count
