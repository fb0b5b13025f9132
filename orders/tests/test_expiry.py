"""Unpaid orders expire after the payment window and give their stock back exactly once; the
buyer may cancel an unpaid order; the periodic sweep and its management command run it."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Product, ProductVariant
from catalog.tests.factories import VariantFactory
from marketplace.errors import InvalidTransition, NotFound
from marketplace.models import AuditEvent, Notification
from orders.models import Order, OrderEvent, VendorOrder
from orders.services.cart import cart_add_line, cart_get_or_create
from orders.services.checkout import order_cancel_by_buyer, order_expire, order_place, orders_expire_due
from orders.tasks import orders_sweep
from orders.tests.factories import AddressFactory


@pytest.fixture
def tea(shop_a):
    return VariantFactory(product__vendor=shop_a, sku="TEA-1", stock=10, product__total_stock=10)


@pytest.fixture
def ball(shop_b):
    return VariantFactory(product__vendor=shop_b, sku="BALL-1", stock=5, product__total_stock=5)


@pytest.fixture
def order(buyer, tea, ball):
    cart = cart_get_or_create(user=buyer, session_key=None)
    cart_add_line(cart=cart, variant_id=tea.pk, quantity=3)
    cart_add_line(cart=cart, variant_id=ball.pk, quantity=2)
    return order_place(buyer=buyer, cart=cart, address=AddressFactory(user=buyer))


def _stock() -> dict[str, int]:
    return dict(ProductVariant.objects.values_list("sku", "stock"))


def _overdue(order: Order) -> None:
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def test_order_is_not_expired_before_its_deadline(order):
    assert _stock() == {"TEA-1": 7, "BALL-1": 3}
    assert order_expire(order=order) is False
    assert orders_expire_due(now=timezone.now()) == 0
    assert Order.objects.get().status == Order.Status.PENDING_PAYMENT
    assert _stock() == {"TEA-1": 7, "BALL-1": 3}


def test_expired_order_returns_its_stock_once(order, buyer):
    _overdue(order)

    assert orders_expire_due(now=timezone.now()) == 1
    assert orders_expire_due(now=timezone.now()) == 0
    assert order_expire(order=Order.objects.get()) is False

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and order.cancelled_at is not None
    assert set(order.vendor_orders.values_list("status", flat=True)) == {VendorOrder.Status.CANCELLED}
    assert _stock() == {"TEA-1": 10, "BALL-1": 5}
    assert sorted(Product.objects.values_list("total_stock", flat=True)) == [5, 10]
    assert list(OrderEvent.objects.filter(order=order).values_list("type", flat=True)) == ["placed", "expired"]
    assert AuditEvent.objects.filter(action="order.expired", object_id=str(order.pk)).count() == 1
    assert Notification.objects.filter(user=buyer, kind="order_expired").count() == 1


def test_a_paid_order_never_expires(order):
    # What the payment service does, as far as expiry can see: the gate moves on from pending.
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID, expires_at=timezone.now() - timedelta(hours=1))
    VendorOrder.objects.filter(order=order).update(status=VendorOrder.Status.PAID)
    assert orders_expire_due(now=timezone.now()) == 0
    assert _stock() == {"TEA-1": 7, "BALL-1": 3}
    assert set(VendorOrder.objects.values_list("status", flat=True)) == {VendorOrder.Status.PAID}


def test_buyer_cancels_an_unpaid_order(order, buyer):
    order_cancel_by_buyer(order=order, actor=buyer)
    assert Order.objects.get().status == Order.Status.CANCELLED
    assert _stock() == {"TEA-1": 10, "BALL-1": 5}
    assert OrderEvent.objects.filter(type="cancelled_by_buyer", actor=buyer).exists()

    with pytest.raises(InvalidTransition):
        order_cancel_by_buyer(order=Order.objects.get(), actor=buyer)
    _overdue(order)
    assert orders_expire_due(now=timezone.now()) == 0
    assert _stock() == {"TEA-1": 10, "BALL-1": 5}


def test_another_buyer_cannot_cancel(order, other_buyer):
    with pytest.raises(NotFound):
        order_cancel_by_buyer(order=order, actor=other_buyer)
    assert Order.objects.get().status == Order.Status.PENDING_PAYMENT


def test_paid_order_cannot_be_cancelled_by_the_buyer(order, buyer):
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)
    with pytest.raises(InvalidTransition):
        order_cancel_by_buyer(order=Order.objects.get(), actor=buyer)
    assert _stock() == {"TEA-1": 7, "BALL-1": 3}


def test_the_sweep_task_expires_due_orders(order):
    _overdue(order)
    result = orders_sweep.delay().get()
    assert result["expired"] == 1
    assert Order.objects.get().status == Order.Status.CANCELLED


def test_run_periodic_jobs_command_runs_the_sweep(order, capsys):
    _overdue(order)
    call_command("run_periodic_jobs", "--only", "orders-sweep")
    assert "orders-sweep" in capsys.readouterr().out
    assert Order.objects.get().status == Order.Status.CANCELLED
    assert _stock() == {"TEA-1": 10, "BALL-1": 5}


def test_the_sweep_goes_through_every_due_order_in_batches(buyer, shop_a):
    variant = VariantFactory(product__vendor=shop_a, sku="MANY-1", stock=5, product__total_stock=5)
    address = AddressFactory(user=buyer)
    for _ in range(5):
        cart = cart_get_or_create(user=buyer, session_key=None)
        cart_add_line(cart=cart, variant_id=variant.pk, quantity=1)
        order_place(buyer=buyer, cart=cart, address=address)
    Order.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert ProductVariant.objects.get(pk=variant.pk).stock == 0

    assert orders_expire_due(now=timezone.now(), limit=2) == 5
    assert ProductVariant.objects.get(pk=variant.pk).stock == 5
    assert not Order.objects.filter(status=Order.Status.PENDING_PAYMENT).exists()
