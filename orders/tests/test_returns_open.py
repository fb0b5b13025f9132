"""The buyer asks for a return or refund: who may, when, for how many units and how much money."""

from datetime import timedelta
from decimal import Decimal

import pytest

from marketplace.errors import InvalidUpload, NotFound
from marketplace.models import AuditEvent, Notification
from orders.models import OrderEvent, ReturnPhoto, ReturnRequest, VendorOrder
from orders.services.returns import (
    InvalidReturn,
    ReturnNotAllowed,
    ReturnQuantityExceeded,
    return_request_cancel,
    return_request_open,
    return_request_refuse,
)
from orders.tests.returns_factories import not_an_image, photo, settle, shop_order, with_discounts

pytestmark = pytest.mark.django_db
VO = VendorOrder.Status
RS = ReturnRequest.Status
KIND = ReturnRequest.Kind


def ask(vendor_order, buyer, quantities, *, kind=KIND.RETURN_AND_REFUND, shipping_refund=False, photos=()):
    """quantities: units per line, in line order (0 = not this line)."""
    lines = [
        (line, quantity)
        for line, quantity in zip(vendor_order.lines.order_by("id"), quantities, strict=True)
        if quantity
    ]
    return return_request_open(
        vendor_order=vendor_order,
        actor=buyer,
        kind=kind,
        reason="damaged",
        description="The lid was cracked.",
        lines=lines,
        shipping_refund=shipping_refund,
        photos=photos,
    )


@pytest.fixture
def delivered(buyer, shop_a, owner_a, manager_a, staff_a):
    return shop_order(buyer=buyer, shop=shop_a, lines=[("10.00", 3), ("25.00", 2)])


def test_buyer_asks_to_return_delivered_goods(delivered, buyer, owner_a, manager_a, staff_a):
    return_request = ask(delivered, buyer, [1, 2])

    assert return_request.status == RS.REQUESTED and return_request.number == f"{delivered.number}-R1"
    assert list(return_request.lines.values_list("quantity", "amount")) == [
        (1, Decimal("10.00")),
        (2, Decimal("50.00")),
    ]
    assert return_request.amount == Decimal("60.00") and return_request.shipping_refund == 0
    assert (
        OrderEvent.objects.filter(
            vendor_order=delivered, type="return_requested", data__return=return_request.number
        ).count()
        == 1
    )
    assert AuditEvent.objects.filter(action="return.requested", object_id=str(return_request.pk), actor=buyer).exists()
    notified = set(Notification.objects.filter(kind="return.requested").values_list("user_id", flat=True))
    assert notified == {owner_a.pk, manager_a.pk, staff_a.pk}


def test_another_buyer_cannot_ask_about_my_order(delivered, other_buyer):
    with pytest.raises(NotFound):
        ask(delivered, other_buyer, [1, 0])
    assert not ReturnRequest.objects.exists()


@pytest.mark.parametrize("status", [VO.PENDING_PAYMENT, VO.CANCELLED])
def test_unpaid_or_cancelled_orders_cannot_be_returned(buyer, shop_a, status):
    vendor_order = shop_order(buyer=buyer, shop=shop_a, status=status)

    with pytest.raises(ReturnNotAllowed, match="Only paid orders"):
        ask(vendor_order, buyer, [1], kind=KIND.REFUND_ONLY)


def test_goods_not_yet_shipped_can_only_be_refunded(buyer, shop_a):
    vendor_order = shop_order(buyer=buyer, shop=shop_a, status=VO.PAID)

    with pytest.raises(ReturnNotAllowed, match="not shipped"):
        ask(vendor_order, buyer, [1])
    refund = ask(vendor_order, buyer, [3], kind=KIND.REFUND_ONLY, shipping_refund=True)

    assert refund.kind == KIND.REFUND_ONLY and refund.amount == Decimal("40.00")  # 30.00 of goods + 10.00 shipping


def test_return_window_closes_seven_days_after_delivery(buyer, shop_a):
    inside = shop_order(buyer=buyer, shop=shop_a, delivered_days_ago=6.9)
    outside = shop_order(buyer=buyer, shop=shop_a, delivered_days_ago=7.1)

    assert ask(inside, buyer, [1]).status == RS.REQUESTED
    with pytest.raises(ReturnNotAllowed, match="return window of 7 days"):
        ask(outside, buyer, [1])


def test_return_window_follows_the_setting(buyer, shop_a, settings):
    settings.RETURN_WINDOW_DAYS = 2
    vendor_order = shop_order(buyer=buyer, shop=shop_a, delivered_days_ago=3)

    with pytest.raises(ReturnNotAllowed, match="return window of 2 days"):
        ask(vendor_order, buyer, [1])


def test_completed_without_delivery_date_counts_from_completion(buyer, shop_a):
    recent = shop_order(buyer=buyer, shop=shop_a, status=VO.COMPLETED, delivered_days_ago=5)
    old = shop_order(buyer=buyer, shop=shop_a, status=VO.COMPLETED, delivered_days_ago=9)
    VendorOrder.objects.filter(pk__in=[recent.pk, old.pk]).update(delivered_at=None)
    recent.refresh_from_db()
    old.refresh_from_db()

    assert ask(recent, buyer, [1]).status == RS.REQUESTED
    with pytest.raises(ReturnNotAllowed, match="return window"):
        ask(old, buyer, [1])


def test_before_delivery_the_buyer_may_always_ask(buyer, shop_a):
    vendor_order = shop_order(buyer=buyer, shop=shop_a, status=VO.SHIPPED, delivered_days_ago=60)

    assert ask(vendor_order, buyer, [1]).status == RS.REQUESTED


def test_settled_order_cannot_be_returned(delivered, buyer):
    settle(delivered)

    with pytest.raises(ReturnNotAllowed, match="settled"):
        ask(delivered, buyer, [1, 0])


def test_more_units_than_bought_are_refused(delivered, buyer):
    with pytest.raises(ReturnQuantityExceeded) as refused:
        ask(delivered, buyer, [4, 0])

    assert refused.value.code == "return_quantity_exceeded" and "Only 3" in str(refused.value)
    assert not ReturnRequest.objects.exists()


def test_units_already_asked_for_cannot_be_asked_again(delivered, buyer, owner_a):
    first = ask(delivered, buyer, [2, 0])

    with pytest.raises(ReturnQuantityExceeded, match="Only 1"):
        ask(delivered, buyer, [2, 0])
    return_request_refuse(return_request=first, actor=owner_a, note="Used.")
    second = ask(delivered, buyer, [3, 0])  # a refused request no longer claims its units

    assert second.lines.get().quantity == 3


def test_cancelled_request_frees_its_units(delivered, buyer):
    first = ask(delivered, buyer, [3, 0])
    return_request_cancel(return_request=first, actor=buyer)

    assert ask(delivered, buyer, [3, 0]).amount == Decimal("30.00")


@pytest.fixture
def ten_for_three(buyer, shop_a):
    """3 units at 4.00 with a 2.00 shop coupon: the buyer paid 10.00 for the line."""
    vendor_order = shop_order(buyer=buyer, shop=shop_a, lines=[("4.00", 3)])
    with_discounts(vendor_order.lines.get(), shop="2.00")
    return vendor_order


def test_one_unit_at_a_time_refunds_the_rounded_running_share_and_exactly_the_total(ten_for_three, buyer):
    """Cumulative rounding: after k units the buyer has got round_half_up(10.00 × k / 3), i.e.
    3.33, then 6.67, then 10.00; each request is the difference."""
    amounts = [ask(ten_for_three, buyer, [1]).amount for _ in range(3)]

    assert amounts == [Decimal("3.33"), Decimal("3.34"), Decimal("3.33")]
    assert sum(amounts) == Decimal("10.00")


def test_the_last_units_take_the_remainder(ten_for_three, buyer):
    two = ask(ten_for_three, buyer, [2])
    last = ask(ten_for_three, buyer, [1])

    assert (two.amount, last.amount) == (Decimal("6.67"), Decimal("3.33"))


def test_every_unit_returned_refunds_exactly_what_was_paid_after_a_cancellation(ten_for_three, buyer):
    first = ask(ten_for_three, buyer, [1])  # 3.33
    second = ask(ten_for_three, buyer, [1])  # 6.67 - 3.33
    return_request_cancel(return_request=first, actor=buyer)
    third = ask(ten_for_three, buyer, [2])  # what is left of the 10.00, not 2 × 3.33 rounded anew

    assert (second.amount, third.amount) == (Decimal("3.34"), Decimal("6.66"))
    assert second.amount + third.amount == Decimal("10.00")


def test_coupons_reduce_the_refund_to_what_the_buyer_paid(delivered, buyer):
    line = with_discounts(delivered.lines.order_by("id").first(), shop="3.00", platform="1.50")  # paid 25.50

    one = ask(delivered, buyer, [1, 0])
    rest = ask(delivered, buyer, [2, 0])

    assert line.paid_amount == Decimal("25.50")
    assert (one.amount, rest.amount) == (Decimal("8.50"), Decimal("17.00"))


def test_shipping_comes_back_only_with_the_last_items(delivered, buyer):
    with pytest.raises(InvalidReturn, match="Shipping is refunded only"):
        ask(delivered, buyer, [1, 0], shipping_refund=True)
    ask(delivered, buyer, [1, 0])

    last = ask(delivered, buyer, [2, 2], shipping_refund=True)

    assert last.shipping_refund == Decimal("10.00")
    assert last.amount == Decimal("80.00")  # 2 × 10.00 + 2 × 25.00 + shipping


def test_shipping_comes_back_once(buyer, shop_a):
    vendor_order = shop_order(buyer=buyer, shop=shop_a, status=VO.PAID)
    ask(vendor_order, buyer, [1], kind=KIND.REFUND_ONLY, shipping_refund=True)

    with pytest.raises(InvalidReturn):
        ask(vendor_order, buyer, [2], kind=KIND.REFUND_ONLY, shipping_refund=True)


def test_photos_are_kept_and_checked(delivered, buyer):
    with pytest.raises(InvalidUpload):
        ask(delivered, buyer, [1, 0], photos=[photo(), not_an_image()])
    with pytest.raises(InvalidReturn, match="at most 5 photos"):
        ask(delivered, buyer, [1, 0], photos=[photo(f"p{i}.png") for i in range(6)])
    assert not ReturnRequest.objects.exists()

    return_request = ask(delivered, buyer, [1, 0], photos=[photo("a.png"), photo("b.png", "blue")])

    assert ReturnPhoto.objects.filter(return_request=return_request).count() == 2


def test_a_line_of_another_order_is_not_found(delivered, buyer, shop_a):
    other = shop_order(buyer=buyer, shop=shop_a)

    with pytest.raises(NotFound):
        return_request_open(
            vendor_order=delivered,
            actor=buyer,
            kind=KIND.RETURN_AND_REFUND,
            reason="damaged",
            lines=[(other.lines.first(), 1)],
        )


@pytest.mark.parametrize(
    ("kind", "reason", "quantity"),
    [("swap", "damaged", 1), (KIND.REFUND_ONLY, "because", 1), (KIND.REFUND_ONLY, "damaged", 0)],
)
def test_bad_input_is_refused_with_a_message(delivered, buyer, kind, reason, quantity):
    with pytest.raises(InvalidReturn):
        return_request_open(
            vendor_order=delivered,
            actor=buyer,
            kind=kind,
            reason=reason,
            lines=[(delivered.lines.first(), quantity)],
        )


def test_a_request_a_minute_before_the_window_closes_is_accepted(buyer, shop_a):
    vendor_order = shop_order(buyer=buyer, shop=shop_a, delivered_days_ago=7)
    VendorOrder.objects.filter(pk=vendor_order.pk).update(delivered_at=vendor_order.delivered_at + timedelta(minutes=1))
    vendor_order.refresh_from_db()

    assert ask(vendor_order, buyer, [1]).status == RS.REQUESTED
