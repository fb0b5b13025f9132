"""After the buyer asked: the shop accepts or refuses, the goods come back, the buyer disputes
or cancels, the platform arbitrates, payments confirms the refund. Each move only by its actor,
only from its state; the refund hook fires exactly once per approved request."""

from decimal import Decimal

import pytest

from catalog.models import Product, ProductVariant
from marketplace.errors import InvalidTransition, NotFound, PermissionDeniedError
from marketplace.models import AuditEvent, Notification
from orders.models import OrderEvent, ReturnRequest, VendorOrder
from orders.services.returns import (
    InvalidReturn,
    ReturnNotAllowed,
    ReturnQuantityExceeded,
    return_mark_refunded,
    return_request_accept,
    return_request_arbitrate,
    return_request_cancel,
    return_request_dispute,
    return_request_goods_received,
    return_request_open,
    return_request_refuse,
    return_request_ship_back,
)
from orders.tests.returns_factories import RefundHookRecorder, settle, shop_order

pytestmark = pytest.mark.django_db
VO = VendorOrder.Status
RS = ReturnRequest.Status
KIND = ReturnRequest.Kind


@pytest.fixture
def refund_hook():
    with RefundHookRecorder() as recorder:
        yield recorder


@pytest.fixture
def vendor_order(buyer, shop_a, owner_a, staff_a):
    return shop_order(buyer=buyer, shop=shop_a, lines=[("10.00", 3)], stock=5)


def open_request(vendor_order, buyer, *, kind=KIND.RETURN_AND_REFUND, quantity=2) -> ReturnRequest:
    return_request = return_request_open(
        vendor_order=vendor_order,
        actor=buyer,
        kind=kind,
        reason="damaged",
        description="Cracked.",
        lines=[(vendor_order.lines.get(), quantity)],
    )
    return ReturnRequest.objects.select_related("vendor_order__vendor", "vendor_order__order").get(pk=return_request.pk)


def stock_of(vendor_order) -> tuple[int, int]:
    line = vendor_order.lines.get()
    return (
        ProductVariant.objects.get(pk=line.variant_id).stock,
        Product.objects.get(pk=line.product_id_snapshot).total_stock,
    )


# --- Accepting -------------------------------------------------------------------------------


def test_shop_accepts_a_refund_only_and_payments_is_told_once(vendor_order, buyer, owner_a, refund_hook):
    return_request = open_request(vendor_order, buyer, kind=KIND.REFUND_ONLY)

    accepted = return_request_accept(return_request=return_request, actor=owner_a)

    assert accepted.status == RS.ACCEPTED and accepted.refund_approved_at and accepted.decided_at
    assert refund_hook.calls == [
        {
            "number": return_request.number,
            "status": RS.ACCEPTED,
            "amount": Decimal("20.00"),
            "refund_approved": True,
            "actor": owner_a.pk,
        }
    ]
    assert AuditEvent.objects.filter(action="return.accepted", object_id=str(return_request.pk), actor=owner_a).exists()
    assert Notification.objects.filter(user=buyer, kind="return.accepted").count() == 1


def test_accepting_twice_changes_nothing_the_second_time(vendor_order, buyer, owner_a, staff_a, refund_hook):
    return_request = open_request(vendor_order, buyer, kind=KIND.REFUND_ONLY)
    return_request_accept(return_request=return_request, actor=owner_a)

    with pytest.raises(InvalidTransition):
        return_request_accept(return_request=open_request_again(return_request), actor=staff_a)

    assert len(refund_hook.calls) == 1
    assert OrderEvent.objects.filter(type="return_accepted").count() == 1


def open_request_again(return_request: ReturnRequest) -> ReturnRequest:
    """A stale copy, as a second browser tab still shows it: status 'requested'."""
    stale = ReturnRequest.objects.select_related("vendor_order").get(pk=return_request.pk)
    stale.status = RS.REQUESTED
    return stale


def test_staff_role_may_answer_returns(vendor_order, buyer, staff_a, refund_hook):
    return_request = open_request(vendor_order, buyer, kind=KIND.REFUND_ONLY)

    assert return_request_accept(return_request=return_request, actor=staff_a).status == RS.ACCEPTED


@pytest.mark.parametrize("who", ["owner_b", "buyer", "other_buyer"])
def test_only_the_shops_staff_can_accept(vendor_order, buyer, request, who, refund_hook):
    return_request = open_request(vendor_order, buyer, kind=KIND.REFUND_ONLY)

    with pytest.raises(NotFound):
        return_request_accept(return_request=return_request, actor=request.getfixturevalue(who))

    return_request.refresh_from_db()
    assert return_request.status == RS.REQUESTED and refund_hook.calls == []


def test_accepting_a_return_waits_for_the_goods(vendor_order, buyer, owner_a, refund_hook):
    return_request = open_request(vendor_order, buyer)

    accepted = return_request_accept(return_request=return_request, actor=owner_a)

    assert accepted.status == RS.ACCEPTED and accepted.refund_approved_at is None
    assert refund_hook.calls == []
    assert Notification.objects.filter(
        user=buyer, kind="return.accepted", title__contains="send the goods back"
    ).exists()


# --- Goods coming back -------------------------------------------------------------------------


def test_goods_received_return_stock_and_approve_the_refund_once(vendor_order, buyer, owner_a, refund_hook):
    before = stock_of(vendor_order)
    return_request = open_request(vendor_order, buyer, quantity=2)
    return_request_accept(return_request=return_request, actor=owner_a)
    return_request_ship_back(return_request=return_request, actor=buyer, carrier="SF Express", tracking_number="SF9")

    received = return_request_goods_received(return_request=return_request, actor=owner_a)
    with pytest.raises(ReturnNotAllowed):
        return_request_goods_received(return_request=return_request, actor=owner_a)

    assert stock_of(vendor_order) == (before[0] + 2, before[1] + 2)
    assert received.goods_received_at and received.refund_approved_at and received.status == RS.ACCEPTED
    assert [call["number"] for call in refund_hook.calls] == [return_request.number]
    assert OrderEvent.objects.filter(type="return_goods_received").count() == 1


def test_goods_cannot_be_received_before_the_shop_accepted(vendor_order, buyer, owner_a, refund_hook):
    return_request = open_request(vendor_order, buyer)
    before = stock_of(vendor_order)

    with pytest.raises(ReturnNotAllowed):
        return_request_goods_received(return_request=return_request, actor=owner_a)

    assert stock_of(vendor_order) == before and refund_hook.calls == []


def test_a_refund_only_has_no_goods_to_receive(vendor_order, buyer, owner_a, refund_hook):
    return_request = open_request(vendor_order, buyer, kind=KIND.REFUND_ONLY)
    return_request_accept(return_request=return_request, actor=owner_a)
    before = stock_of(vendor_order)

    with pytest.raises(ReturnNotAllowed):
        return_request_goods_received(return_request=return_request, actor=owner_a)

    assert stock_of(vendor_order) == before and len(refund_hook.calls) == 1


def test_another_shop_cannot_receive_the_goods(vendor_order, buyer, owner_a, owner_b, refund_hook):
    return_request = open_request(vendor_order, buyer)
    return_request_accept(return_request=return_request, actor=owner_a)

    with pytest.raises(NotFound):
        return_request_goods_received(return_request=return_request, actor=owner_b)

    assert refund_hook.calls == []


def test_buyer_ships_back_only_an_accepted_return(vendor_order, buyer, other_buyer, owner_a):
    return_request = open_request(vendor_order, buyer)
    with pytest.raises(ReturnNotAllowed):
        return_request_ship_back(return_request=return_request, actor=buyer, carrier="SF", tracking_number="1")
    return_request_accept(return_request=return_request, actor=owner_a)
    with pytest.raises(NotFound):
        return_request_ship_back(return_request=return_request, actor=other_buyer, carrier="SF", tracking_number="1")
    with pytest.raises(InvalidReturn):
        return_request_ship_back(return_request=return_request, actor=buyer, carrier="SF", tracking_number=" ")

    shipped = return_request_ship_back(return_request=return_request, actor=buyer, carrier="SF", tracking_number="SF42")

    assert (shipped.return_carrier, shipped.return_tracking_number) == ("SF", "SF42")
    assert Notification.objects.filter(kind="return.shipped_back", user=owner_a).exists()


# --- Refusing and disputing --------------------------------------------------------------------


def test_shop_refuses_with_a_reason_and_the_buyer_is_told(vendor_order, buyer, owner_a):
    return_request = open_request(vendor_order, buyer)
    with pytest.raises(InvalidReturn):
        return_request_refuse(return_request=return_request, actor=owner_a, note="  ")

    refused = return_request_refuse(return_request=return_request, actor=owner_a, note="Opened and used.")

    assert refused.status == RS.REFUSED and refused.vendor_note == "Opened and used."
    assert Notification.objects.get(user=buyer, kind="return.refused").body == "Opened and used."
    with pytest.raises(InvalidTransition):
        return_request_accept(return_request=refused, actor=owner_a)


def test_buyer_disputes_a_refusal(vendor_order, buyer, owner_a):
    return_request = open_request(vendor_order, buyer)
    with pytest.raises(InvalidTransition):
        return_request_dispute(return_request=return_request, actor=buyer, reason="It arrived broken.")
    return_request_refuse(return_request=return_request, actor=owner_a, note="No.")

    disputed = return_request_dispute(return_request=return_request, actor=buyer, reason="It arrived broken.")

    assert disputed.status == RS.DISPUTED
    assert OrderEvent.objects.get(type="return_disputed").data["reason"] == "It arrived broken."


def test_another_buyer_cannot_dispute(vendor_order, buyer, other_buyer, owner_a):
    return_request = open_request(vendor_order, buyer)
    return_request_refuse(return_request=return_request, actor=owner_a, note="No.")

    with pytest.raises(NotFound):
        return_request_dispute(return_request=return_request, actor=other_buyer, reason="Mine!")


def test_dispute_is_refused_when_the_units_were_asked_for_again(vendor_order, buyer, owner_a):
    return_request = open_request(vendor_order, buyer, quantity=2)
    return_request_refuse(return_request=return_request, actor=owner_a, note="No.")
    open_request(vendor_order, buyer, quantity=3)

    with pytest.raises(ReturnQuantityExceeded):
        return_request_dispute(return_request=return_request, actor=buyer, reason="Please.")

    return_request.refresh_from_db()
    assert return_request.status == RS.REFUSED


def test_dispute_is_refused_once_the_order_settled(vendor_order, buyer, owner_a):
    return_request = open_request(vendor_order, buyer)
    return_request_refuse(return_request=return_request, actor=owner_a, note="No.")
    settle(vendor_order)

    with pytest.raises(ReturnNotAllowed, match="settled"):
        return_request_dispute(return_request=return_request, actor=buyer, reason="Please.")


def test_shop_may_still_accept_while_disputed(vendor_order, buyer, owner_a, refund_hook):
    return_request = open_request(vendor_order, buyer, kind=KIND.REFUND_ONLY)
    return_request_refuse(return_request=return_request, actor=owner_a, note="No.")
    return_request_dispute(return_request=return_request, actor=buyer, reason="Please.")

    assert return_request_accept(return_request=return_request, actor=owner_a).status == RS.ACCEPTED
    assert len(refund_hook.calls) == 1


# --- The platform's arbitration ---------------------------------------------------------------


@pytest.fixture
def disputed(vendor_order, buyer, owner_a):
    def make(kind):
        return_request = open_request(vendor_order, buyer, kind=kind, quantity=1)
        return_request_refuse(return_request=return_request, actor=owner_a, note="No.")
        return return_request_dispute(return_request=return_request, actor=buyer, reason="Broken.")

    return make


def test_only_platform_staff_arbitrate(disputed, owner_a, buyer, refund_hook):
    return_request = disputed(KIND.REFUND_ONLY)

    for actor in (owner_a, buyer):
        with pytest.raises(PermissionDeniedError):
            return_request_arbitrate(return_request=return_request, actor=actor, decision="refund")

    assert refund_hook.calls == []


def test_platform_orders_a_refund(disputed, admin_user, buyer, owner_a, refund_hook):
    return_request = disputed(KIND.REFUND_ONLY)

    decided = return_request_arbitrate(
        return_request=return_request, actor=admin_user, decision="refund", note="Photos show the damage."
    )

    assert decided.status == RS.ACCEPTED and decided.admin_note == "Photos show the damage."
    assert [(call["number"], call["actor"]) for call in refund_hook.calls] == [(return_request.number, admin_user.pk)]
    assert Notification.objects.filter(user=owner_a, kind="return.arbitrated_refund").exists()
    assert AuditEvent.objects.filter(action="return.arbitrated_refund", actor=admin_user).exists()


def test_platform_may_refund_a_return_without_the_goods(disputed, admin_user, vendor_order, refund_hook):
    return_request = disputed(KIND.RETURN_AND_REFUND)
    before = stock_of(vendor_order)

    decided = return_request_arbitrate(
        return_request=return_request, actor=admin_user, decision="refund", goods_return=False
    )

    assert decided.refund_approved_at and decided.goods_received_at is None
    assert len(refund_hook.calls) == 1 and stock_of(vendor_order) == before


def test_platform_refund_of_a_return_waits_for_the_goods_by_default(disputed, admin_user, owner_a, refund_hook):
    return_request = disputed(KIND.RETURN_AND_REFUND)

    decided = return_request_arbitrate(return_request=return_request, actor=admin_user, decision="refund")

    assert decided.status == RS.ACCEPTED and decided.refund_approved_at is None and refund_hook.calls == []
    return_request_goods_received(return_request=decided, actor=owner_a)
    assert len(refund_hook.calls) == 1


def test_platform_refuses_and_closes(disputed, admin_user, vendor_order, buyer, refund_hook):
    return_request = disputed(KIND.REFUND_ONLY)

    closed = return_request_arbitrate(return_request=return_request, actor=admin_user, decision="refuse", note="Used.")

    assert closed.status == RS.CLOSED and closed.closed_at and refund_hook.calls == []
    with pytest.raises(ReturnQuantityExceeded):  # a closed request keeps its units: decided for good
        open_request(vendor_order, buyer, quantity=3)


def test_only_disputed_requests_are_arbitrated(vendor_order, buyer, admin_user, refund_hook):
    return_request = open_request(vendor_order, buyer, kind=KIND.REFUND_ONLY)

    for decision in ("refund", "refuse"):
        with pytest.raises(InvalidTransition):
            return_request_arbitrate(return_request=return_request, actor=admin_user, decision=decision)

    assert refund_hook.calls == []


# --- Cancelling --------------------------------------------------------------------------------


def test_buyer_cancels_an_open_request(vendor_order, buyer, owner_a):
    return_request = open_request(vendor_order, buyer)

    cancelled = return_request_cancel(return_request=return_request, actor=buyer)

    assert cancelled.status == RS.CANCELLED and cancelled.closed_at
    assert Notification.objects.filter(user=owner_a, kind="return.cancelled").exists()
    with pytest.raises(InvalidTransition):
        return_request_accept(return_request=cancelled, actor=owner_a)


def test_buyer_may_cancel_an_accepted_return_before_sending_the_goods(vendor_order, buyer, owner_a):
    return_request = open_request(vendor_order, buyer)
    return_request_accept(return_request=return_request, actor=owner_a)

    assert return_request_cancel(return_request=return_request, actor=buyer).status == RS.CANCELLED


def test_buyer_cannot_cancel_once_the_refund_is_approved(vendor_order, buyer, owner_a, refund_hook):
    return_request = open_request(vendor_order, buyer, kind=KIND.REFUND_ONLY)
    return_request_accept(return_request=return_request, actor=owner_a)

    with pytest.raises(ReturnNotAllowed, match="on its way"):
        return_request_cancel(return_request=return_request, actor=buyer)

    return_request.refresh_from_db()
    assert return_request.status == RS.ACCEPTED


def test_another_buyer_cannot_cancel(vendor_order, buyer, other_buyer):
    return_request = open_request(vendor_order, buyer)

    with pytest.raises(NotFound):
        return_request_cancel(return_request=return_request, actor=other_buyer)


# --- Payments' call back ------------------------------------------------------------------------


def test_payments_marks_the_refund_done_once(vendor_order, buyer, owner_a, refund_hook):
    return_request = open_request(vendor_order, buyer, kind=KIND.REFUND_ONLY)
    return_request_accept(return_request=return_request, actor=owner_a)

    assert return_mark_refunded(return_request=return_request) is True
    assert return_mark_refunded(return_request=return_request) is False

    return_request.refresh_from_db()
    assert return_request.status == RS.REFUNDED and return_request.closed_at
    assert OrderEvent.objects.filter(type="return_refunded").count() == 1
    assert Notification.objects.filter(user=buyer, kind="return.refunded").count() == 1


def test_payments_cannot_mark_refunded_a_request_never_approved(vendor_order, buyer, owner_a):
    return_request = open_request(vendor_order, buyer)
    return_request_accept(return_request=return_request, actor=owner_a)  # waiting for the goods

    with pytest.raises(InvalidTransition):
        return_mark_refunded(return_request=return_request)

    return_request.refresh_from_db()
    assert return_request.status == RS.ACCEPTED
