"""Placing an order: one Order, one VendorOrder per shop, price snapshots, exact totals, stock
reserved, and nothing at all written when stock ran out."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Product, ProductVariant
from catalog.tests.factories import VariantFactory
from marketplace.errors import NotFound, OutOfStock, Unavailable
from marketplace.models import AuditEvent
from orders.models import CartLine, Order, OrderEvent, OrderLine, VendorOrder
from orders.services.cart import cart_add_line, cart_get_or_create
from orders.services.checkout import CartEmpty, order_place
from orders.tests.factories import AddressFactory
from vendors.tests.factories import ShippingTemplateFactory


@pytest.fixture
def tea(shop_a):
    return VariantFactory(
        product__vendor=shop_a, product__title="Longjing green tea", name="250 g", sku="TEA-1", price="33.30", stock=10
    )


@pytest.fixture
def cup(shop_a):
    return VariantFactory(product__vendor=shop_a, product__title="Tea cup", sku="CUP-1", price="0.10", stock=10)


@pytest.fixture
def ball(shop_b):
    return VariantFactory(product__vendor=shop_b, product__title="Basketball", sku="BALL-1", price="120.00", stock=3)


@pytest.fixture
def address(buyer):
    return AddressFactory(user=buyer, region="浙江省")


@pytest.fixture
def cart(buyer):
    return cart_get_or_create(user=buyer, session_key=None)


def _row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (Order, VendorOrder, OrderLine, OrderEvent, CartLine)}


def test_order_has_one_part_per_shop_with_snapshots_and_exact_totals(buyer, cart, address, tea, cup, ball):
    cart_add_line(cart=cart, variant_id=tea.pk, quantity=3)  # 99.90
    cart_add_line(cart=cart, variant_id=cup.pk, quantity=3)  # 0.30
    cart_add_line(cart=cart, variant_id=ball.pk, quantity=2)  # 240.00
    before = timezone.now()

    order = order_place(buyer=buyer, cart=cart, address=address, shipping_choices={})

    order.refresh_from_db()
    assert order.number.startswith("SQ") and len(order.number) == 18
    assert order.status == Order.Status.PENDING_PAYMENT
    # Tea House: 100.20 of goods is over its 99.00 free-shipping line; Panda Sports charges 12.00.
    assert order.items_total == Decimal("340.20")
    assert order.shipping_total == Decimal("12.00")
    assert order.grand_total == Decimal("352.20")
    assert order.shipping_address["region"] == "浙江省" and order.shipping_address["recipient"] == "Li Lei"
    assert before + timedelta(minutes=29) < order.expires_at <= timezone.now() + timedelta(minutes=30)

    parts = {vo.vendor.name: vo for vo in order.vendor_orders.select_related("vendor")}
    assert set(parts) == {"Tea House", "Panda Sports"}
    assert sorted(vo.number for vo in parts.values()) == [f"{order.number}-1", f"{order.number}-2"]
    assert (parts["Tea House"].items_total, parts["Tea House"].shipping_total, parts["Tea House"].total) == (
        Decimal("100.20"),
        Decimal("0.00"),
        Decimal("100.20"),
    )
    assert (parts["Panda Sports"].items_total, parts["Panda Sports"].shipping_total) == (
        Decimal("240.00"),
        Decimal("12.00"),
    )
    assert parts["Panda Sports"].shipping_method == "Standard"
    assert all(vo.status == VendorOrder.Status.PENDING_PAYMENT for vo in parts.values())

    line = OrderLine.objects.get(sku="TEA-1")
    assert (line.product_title, line.variant_name, line.unit_price, line.quantity, line.line_total) == (
        "Longjing green tea",
        "250 g",
        Decimal("33.30"),
        3,
        Decimal("99.90"),
    )
    assert line.vendor_order == parts["Tea House"] and line.product_id_snapshot == tea.product_id

    assert OrderEvent.objects.get(order=order).type == "placed"
    assert AuditEvent.objects.filter(action="order.placed", object_id=str(order.pk)).exists()
    assert not CartLine.objects.filter(cart=cart).exists()
    stock = dict(ProductVariant.objects.values_list("sku", "stock"))
    assert stock == {"TEA-1": 7, "CUP-1": 7, "BALL-1": 1}
    assert Product.objects.get(pk=ball.product_id).total_stock == 10 - 2


def test_catalog_changes_after_placing_do_not_change_the_order(buyer, cart, address, tea):
    cart_add_line(cart=cart, variant_id=tea.pk, quantity=1)
    order = order_place(buyer=buyer, cart=cart, address=address)
    ProductVariant.objects.filter(pk=tea.pk).update(price="99.00", name="renamed")
    Product.objects.filter(pk=tea.product_id).update(title="Something else")
    line = OrderLine.objects.get(vendor_order__order=order)
    assert (line.unit_price, line.product_title, line.variant_name) == (Decimal("33.30"), "Longjing green tea", "250 g")


def test_the_current_price_is_charged_not_the_price_when_added(buyer, cart, address, tea):
    cart_add_line(cart=cart, variant_id=tea.pk, quantity=2)
    ProductVariant.objects.filter(pk=tea.pk).update(price="30.00")
    order = order_place(buyer=buyer, cart=cart, address=address)
    assert order.items_total == Decimal("60.00")
    assert OrderLine.objects.get().unit_price == Decimal("30.00")


def test_out_of_stock_writes_nothing(buyer, cart, address, tea, ball):
    cart_add_line(cart=cart, variant_id=tea.pk, quantity=2)
    cart_add_line(cart=cart, variant_id=ball.pk, quantity=3)
    ProductVariant.objects.filter(pk=ball.pk).update(stock=2)  # someone else bought one meanwhile
    before = _row_counts()

    with pytest.raises(OutOfStock) as error:
        order_place(buyer=buyer, cart=cart, address=address)

    assert str(error.value) == "Not enough stock for BALL-1: 2 left, 3 requested."
    assert _row_counts() == before
    assert dict(ProductVariant.objects.values_list("sku", "stock")) == {"TEA-1": 10, "BALL-1": 2}
    assert CartLine.objects.filter(cart=cart).count() == 2


@pytest.mark.parametrize("with_tea", [True, False], ids=["two variants", "one variant"])
def test_stock_taken_between_the_read_and_the_update_still_writes_nothing(buyer, cart, address, tea, ball, with_tea):
    """The conditional UPDATE is the guarantee: here the stock is gone when it runs, although
    the cart read (inside the same transaction) saw enough."""
    from django.db import connection

    if with_tea:
        cart_add_line(cart=cart, variant_id=tea.pk, quantity=2)
    cart_add_line(cart=cart, variant_id=ball.pk, quantity=3)
    before = _row_counts()

    def steal_the_ball(execute, sql, params, many, context):
        if '"catalog_productvariant" SET "stock"' in sql:
            execute('UPDATE "catalog_productvariant" SET "stock" = 0 WHERE "sku" = %s', ["BALL-1"], many, context)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(steal_the_ball), pytest.raises(OutOfStock, match="BALL-1: 0 left, 3 requested"):
        order_place(buyer=buyer, cart=cart, address=address)

    assert _row_counts() == before
    assert dict(ProductVariant.objects.values_list("sku", "stock")) == {"TEA-1": 10, "BALL-1": 3}
    assert Product.objects.get(pk=ball.product_id).total_stock == 10


def test_unavailable_item_blocks_the_order(buyer, cart, address, tea, ball):
    cart_add_line(cart=cart, variant_id=tea.pk, quantity=1)
    cart_add_line(cart=cart, variant_id=ball.pk, quantity=1)
    Product.objects.filter(pk=ball.product_id).update(is_banned=True)
    before = _row_counts()
    with pytest.raises(Unavailable, match="Basketball"):
        order_place(buyer=buyer, cart=cart, address=address)
    assert _row_counts() == before


def test_empty_cart_cannot_be_ordered(buyer, cart, address):
    with pytest.raises(CartEmpty, match="Your cart is empty."):
        order_place(buyer=buyer, cart=cart, address=address)


def test_someone_elses_address_or_cart_is_refused(buyer, other_buyer, cart, tea):
    cart_add_line(cart=cart, variant_id=tea.pk, quantity=1)
    with pytest.raises(NotFound):
        order_place(buyer=buyer, cart=cart, address=AddressFactory(user=other_buyer))
    with pytest.raises(NotFound):
        order_place(buyer=other_buyer, cart=cart, address=AddressFactory(user=other_buyer))
    assert not Order.objects.exists()


def test_chosen_shipping_template_is_used(buyer, cart, address, shop_b, ball):
    express = ShippingTemplateFactory(
        vendor=shop_b, name="Express", base_fee="20.00", per_item_fee="5.50", free_over=None, is_default=False
    )
    cart_add_line(cart=cart, variant_id=ball.pk, quantity=2)
    order = order_place(buyer=buyer, cart=cart, address=address, shipping_choices={str(shop_b.pk): str(express.pk)})
    part = order.vendor_orders.get()
    assert (part.shipping_method, part.shipping_total, part.total) == ("Express", Decimal("31.00"), Decimal("271.00"))


def test_template_of_another_shop_is_refused(buyer, cart, address, shop_a, shop_b, ball):
    other = shop_a.shipping_templates.get()
    cart_add_line(cart=cart, variant_id=ball.pk, quantity=1)
    with pytest.raises(NotFound, match="Shipping option not found for Panda Sports."):
        order_place(buyer=buyer, cart=cart, address=address, shipping_choices={shop_b.pk: other.pk})
    assert not Order.objects.exists()


def test_shop_that_does_not_deliver_to_the_region_blocks_the_order(buyer, cart, shop_b, ball):
    shop_b.shipping_templates.update(excluded_regions=["新疆维吾尔自治区"])
    far_away = AddressFactory(user=buyer, region="新疆")
    cart_add_line(cart=cart, variant_id=ball.pk, quantity=1)
    with pytest.raises(Unavailable, match="Panda Sports does not deliver to 新疆."):
        order_place(buyer=buyer, cart=cart, address=far_away)
    assert not Order.objects.exists()


def test_default_excluded_falls_back_to_a_template_that_serves_the_region(buyer, cart, shop_b, ball):
    shop_b.shipping_templates.update(excluded_regions=["新疆"])
    ShippingTemplateFactory(vendor=shop_b, name="Far west", base_fee="30.00", free_over=None, is_default=False)
    cart_add_line(cart=cart, variant_id=ball.pk, quantity=1)
    order = order_place(buyer=buyer, cart=cart, address=AddressFactory(user=buyer, region="新疆维吾尔自治区"))
    assert order.vendor_orders.get().shipping_method == "Far west"
    assert order.shipping_total == Decimal("30.00")


def test_order_numbers_are_unique_and_readable(buyer, address, tea):
    numbers = set()
    for _ in range(5):
        cart = cart_get_or_create(user=buyer, session_key=None)
        cart_add_line(cart=cart, variant_id=tea.pk, quantity=1)
        numbers.add(order_place(buyer=buyer, cart=cart, address=address).number)
    assert len(numbers) == 5
    assert all(n.isascii() and n.isalnum() and not set(n[8:]) & set("ILOU") for n in numbers)


def test_placing_runs_a_fixed_number_of_queries(buyer, address, django_assert_max_num_queries):
    """Whatever the number of lines and shops: reads, one insert per table, one stock UPDATE per
    variant and one per product (the locks that cannot be batched)."""
    cart = cart_get_or_create(user=buyer, session_key=None)
    variants = [VariantFactory() for _ in range(4)]
    for variant in variants:
        cart_add_line(cart=cart, variant_id=variant.pk, quantity=1)
    with django_assert_max_num_queries(9 + 2 * len(variants) + 2):
        order_place(buyer=buyer, cart=cart, address=address)


def test_a_clashing_order_number_is_replaced(buyer, address, tea, monkeypatch):
    import secrets

    first = order_place(buyer=buyer, cart=_cart_with(buyer, tea), address=address)
    clash = int(
        first.number[8:].translate(
            str.maketrans("0123456789ABCDEFGHJKMNPQRSTVWXYZ", "0123456789abcdefghijklmnopqrstuv")
        ),
        32,
    )
    replies = iter([clash.to_bytes(7, "big"), b"\x01" * 7])
    monkeypatch.setattr(secrets, "token_bytes", lambda n: next(replies))

    second = order_place(buyer=buyer, cart=_cart_with(buyer, tea), address=address)

    assert second.number != first.number and Order.objects.count() == 2
    assert VendorOrder.objects.filter(number__startswith=second.number).count() == 1


def _cart_with(buyer, variant):
    cart = cart_get_or_create(user=buyer, session_key=None)
    cart_add_line(cart=cart, variant_id=variant.pk, quantity=1)
    return cart
