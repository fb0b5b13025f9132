"""The shop order state machine: paid, shipped, delivered, completed; nothing else."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import Product
from marketplace.errors import InvalidTransition, NotFound
from marketplace.models import AuditEvent, Notification
from orders.models import Order, OrderEvent, VendorOrder
from orders.services.checkout import order_expire
from orders.services.fulfilment import (
    InvalidShipmentError,
    order_mark_paid,
    vendor_order_complete,
    vendor_order_confirm_receipt,
    vendor_order_ship,
    vendor_orders_auto_advance,
)
from orders.tests.fulfilment_factories import order_for

pytestmark = pytest.mark.django_db
VO = VendorOrder.Status


@pytest.fixture
def order(buyer, shop_a, shop_b, owner_a, staff_a, owner_b):
    return order_for(buyer=buyer, vendors=[shop_a, shop_b], quantity=2)


@pytest.fixture
def paid_order(order):
    order_mark_paid(order=order, payment_reference="PAY-TEST")
    return order


def part(order: Order, vendor) -> VendorOrder:
    return order.vendor_orders.select_related("order", "vendor").get(vendor=vendor)


def test_mark_paid_pays_every_shop_order_and_counts_sales(order):
    product_ids = sorted(order.vendor_orders.values_list("lines__product_id_snapshot", flat=True))

    assert order_mark_paid(order=order, payment_reference="PAY-1") is True

    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.paid_at
    assert set(order.vendor_orders.values_list("status", flat=True)) == {VO.PAID}
    assert all(vo.paid_at == order.paid_at for vo in order.vendor_orders.all())
    assert list(Product.objects.filter(pk__in=product_ids).values_list("sold_count", flat=True)) == [2, 2]
    assert AuditEvent.objects.filter(action="order.paid", object_id=str(order.pk)).count() == 1


def test_mark_paid_twice_changes_nothing_the_second_time(order):
    order_mark_paid(order=order, payment_reference="PAY-1")

    assert order_mark_paid(order=order, payment_reference="PAY-1") is False

    assert OrderEvent.objects.filter(order=order, type="paid").count() == 1
    assert set(Product.objects.values_list("sold_count", flat=True)) == {2}


def test_expired_order_cannot_be_marked_paid(order):
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    order.refresh_from_db()
    order_expire(order=order)

    with pytest.raises(InvalidTransition):
        order_mark_paid(order=order, payment_reference="PAY-LATE")

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert set(Product.objects.values_list("sold_count", flat=True)) == {0}


def test_buyer_and_shop_staff_are_notified_of_payment(order, shop_a, shop_b, buyer, owner_a, staff_a, owner_b):
    order_mark_paid(order=order, payment_reference="PAY-1")

    assert Notification.objects.get(user=buyer).url == f"/orders/{order.number}/"
    for user, shop in ((owner_a, shop_a), (staff_a, shop_a), (owner_b, shop_b)):
        notice = Notification.objects.get(user=user, kind="vendor_order.paid")
        assert notice.url == f"/dashboard/orders/{part(order, shop).number}/"
    assert not Notification.objects.filter(
        user=owner_b, url=f"/dashboard/orders/{part(order, shop_a).number}/"
    ).exists()


def test_shop_ships_with_carrier_and_tracking(paid_order, shop_a, staff_a, buyer):
    vendor_order = vendor_order_ship(
        vendor_order=part(paid_order, shop_a), actor=staff_a, carrier=" SF Express ", tracking_number="SF1234567890"
    )

    assert vendor_order.status == VO.SHIPPED and vendor_order.shipped_at
    assert (vendor_order.carrier, vendor_order.tracking_number) == ("SF Express", "SF1234567890")
    event = OrderEvent.objects.get(vendor_order=vendor_order, type="shipped")
    assert event.actor == staff_a and event.data == {"carrier": "SF Express", "tracking_number": "SF1234567890"}
    assert AuditEvent.objects.get(action="vendor_order.shipped").actor == staff_a
    notice = Notification.objects.get(user=buyer, kind="vendor_order.shipped")
    assert "SF1234567890" in notice.body
    # The other shop's part is untouched.
    assert part(paid_order, paid_order.vendor_orders.exclude(vendor=shop_a).get().vendor).status == VO.PAID


def test_shipping_needs_carrier_and_tracking(paid_order, shop_a, owner_a):
    with pytest.raises(InvalidShipmentError, match="required"):
        vendor_order_ship(vendor_order=part(paid_order, shop_a), actor=owner_a, carrier="SF", tracking_number="  ")

    assert part(paid_order, shop_a).status == VO.PAID


def test_shipping_twice_or_before_payment_is_an_invalid_transition(order, shop_a, owner_a):
    with pytest.raises(InvalidTransition):
        vendor_order_ship(vendor_order=part(order, shop_a), actor=owner_a, carrier="SF", tracking_number="1")

    order_mark_paid(order=order, payment_reference="PAY-1")
    vendor_order_ship(vendor_order=part(order, shop_a), actor=owner_a, carrier="SF", tracking_number="1")
    with pytest.raises(InvalidTransition, match="from shipped to shipped"):
        vendor_order_ship(vendor_order=part(order, shop_a), actor=owner_a, carrier="SF", tracking_number="2")
    assert part(order, shop_a).tracking_number == "1"


def test_stale_copy_cannot_ship_twice(paid_order, shop_a, owner_a):
    first_copy, second_copy = part(paid_order, shop_a), part(paid_order, shop_a)
    vendor_order_ship(vendor_order=first_copy, actor=owner_a, carrier="SF", tracking_number="1")

    with pytest.raises(InvalidTransition):
        vendor_order_ship(vendor_order=second_copy, actor=owner_a, carrier="ZTO", tracking_number="2")

    assert OrderEvent.objects.filter(type="shipped").count() == 1


def test_other_shops_staff_cannot_ship(paid_order, shop_a, owner_b, buyer):
    for outsider in (owner_b, buyer):
        with pytest.raises(NotFound):
            vendor_order_ship(vendor_order=part(paid_order, shop_a), actor=outsider, carrier="SF", tracking_number="1")
    assert part(paid_order, shop_a).status == VO.PAID


def test_buyer_confirms_receipt_and_the_shop_is_told(paid_order, shop_a, owner_a, buyer):
    vendor_order_ship(vendor_order=part(paid_order, shop_a), actor=owner_a, carrier="SF", tracking_number="1")

    vendor_order = vendor_order_confirm_receipt(vendor_order=part(paid_order, shop_a), actor=buyer)

    assert vendor_order.status == VO.DELIVERED and vendor_order.delivered_at
    assert OrderEvent.objects.get(vendor_order=vendor_order, type="delivered").actor == buyer
    assert Notification.objects.filter(user=owner_a, kind="vendor_order.delivered").count() == 1


def test_only_the_buyer_confirms_and_only_once_shipped(paid_order, shop_a, owner_a, other_buyer, buyer):
    with pytest.raises(InvalidTransition):
        vendor_order_confirm_receipt(vendor_order=part(paid_order, shop_a), actor=buyer)
    vendor_order_ship(vendor_order=part(paid_order, shop_a), actor=owner_a, carrier="SF", tracking_number="1")
    for outsider in (other_buyer, owner_a):
        with pytest.raises(NotFound):
            vendor_order_confirm_receipt(vendor_order=part(paid_order, shop_a), actor=outsider)

    assert part(paid_order, shop_a).status == VO.SHIPPED


def test_complete_only_after_delivery(paid_order, shop_a, owner_a, buyer):
    with pytest.raises(InvalidTransition):
        vendor_order_complete(vendor_order=part(paid_order, shop_a))
    vendor_order_ship(vendor_order=part(paid_order, shop_a), actor=owner_a, carrier="SF", tracking_number="1")
    vendor_order_confirm_receipt(vendor_order=part(paid_order, shop_a), actor=buyer)

    vendor_order = vendor_order_complete(vendor_order=part(paid_order, shop_a))

    assert vendor_order.status == VO.COMPLETED and vendor_order.completed_at


def test_auto_advance_delivers_old_shipments_then_completes_them(
    paid_order, shop_a, shop_b, owner_a, owner_b, buyer, settings
):
    settings.ORDER_AUTO_DELIVER_DAYS = 10
    settings.ORDER_AUTO_COMPLETE_DAYS = 7
    now = timezone.now()
    old, recent = part(paid_order, shop_a), part(paid_order, shop_b)
    vendor_order_ship(vendor_order=old, actor=owner_a, carrier="SF", tracking_number="1")
    vendor_order_ship(vendor_order=recent, actor=owner_b, carrier="SF", tracking_number="2")
    VendorOrder.objects.filter(pk=old.pk).update(shipped_at=now - timedelta(days=11))
    VendorOrder.objects.filter(pk=recent.pk).update(shipped_at=now - timedelta(days=9))

    assert vendor_orders_auto_advance(now=now) == {"delivered": 1, "completed": 0}
    assert vendor_orders_auto_advance(now=now) == {"delivered": 0, "completed": 0}

    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, old.delivered_at) == (VO.DELIVERED, now)
    assert recent.status == VO.SHIPPED
    assert OrderEvent.objects.get(vendor_order=old, type="delivered").data == {"automatic": True}
    assert AuditEvent.objects.filter(action="vendor_order.delivered", object_id=str(old.pk)).count() == 1
    assert Notification.objects.filter(user=buyer, kind="vendor_order.delivered").count() == 1
    assert Notification.objects.filter(user=owner_a, kind="vendor_order.delivered").count() == 1

    assert vendor_orders_auto_advance(now=now + timedelta(days=7)) == {"delivered": 1, "completed": 1}
    old.refresh_from_db()
    assert old.status == VO.COMPLETED
    assert vendor_orders_auto_advance(now=now + timedelta(days=30)) == {"delivered": 0, "completed": 1}
    assert set(VendorOrder.objects.values_list("status", flat=True)) == {VO.COMPLETED}
    assert vendor_orders_auto_advance(now=now + timedelta(days=30)) == {"delivered": 0, "completed": 0}


def test_auto_advance_leaves_unshipped_orders_alone(paid_order, order):
    assert vendor_orders_auto_advance(now=timezone.now() + timedelta(days=365)) == {"delivered": 0, "completed": 0}
    assert set(VendorOrder.objects.values_list("status", flat=True)) == {VO.PAID}


def test_buyer_confirms_receipt_on_the_order_page_when_it_exists(paid_order, shop_a, owner_a, buyer):
    """c1's buyer page calls vendor_order_confirm_receipt; check the wiring end to end."""
    vendor_order = vendor_order_ship(
        vendor_order=part(paid_order, shop_a), actor=owner_a, carrier="SF", tracking_number="1"
    )
    client = Client()
    client.force_login(buyer)

    response = client.post(f"/orders/{paid_order.number}/parts/{vendor_order.number}/confirm-receipt/")

    assert response.status_code in (200, 302)
    vendor_order.refresh_from_db()
    assert vendor_order.status == VO.DELIVERED
