"""The allowed transitions of orders, in one place. Services check here before every change
and make the change with a conditional UPDATE ... WHERE status = <source>."""

from django.utils.translation import gettext

from marketplace.errors import InvalidTransition
from orders.models import Order, ReturnRequest, VendorOrder

VO = VendorOrder.Status
VENDOR_ORDER_TRANSITIONS: dict[str, set[str]] = {
    VO.PENDING_PAYMENT: {VO.PAID, VO.CANCELLED},
    VO.PAID: {VO.SHIPPED, VO.CANCELLED},
    VO.SHIPPED: {VO.DELIVERED},
    VO.DELIVERED: {VO.COMPLETED},
    VO.COMPLETED: set(),
    VO.CANCELLED: set(),
}

OS = Order.Status
ORDER_TRANSITIONS: dict[str, set[str]] = {
    OS.PENDING_PAYMENT: {OS.PAID, OS.CANCELLED},
    OS.PAID: set(),
    OS.CANCELLED: set(),
}

RS = ReturnRequest.Status
# ACCEPTED covers both "awaiting the goods" and "refund approved, awaiting payments"
# (refund_approved_at tells them apart); payments moves it to REFUNDED.
RETURN_TRANSITIONS: dict[str, set[str]] = {
    RS.REQUESTED: {RS.ACCEPTED, RS.REFUSED, RS.CANCELLED},
    RS.ACCEPTED: {RS.REFUNDED, RS.CANCELLED},
    RS.REFUSED: {RS.DISPUTED},
    RS.DISPUTED: {RS.ACCEPTED, RS.CLOSED, RS.CANCELLED},
    RS.REFUNDED: set(),
    RS.CLOSED: set(),
    RS.CANCELLED: set(),
}


def check_vendor_order_transition(vendor_order: VendorOrder, target: str) -> None:
    if target not in VENDOR_ORDER_TRANSITIONS[vendor_order.status]:
        raise InvalidTransition(
            name=gettext("shop order %(number)s") % {"number": vendor_order.number},
            source=vendor_order.status,
            target=target,
        )


def check_order_transition(order: Order, target: str) -> None:
    if target not in ORDER_TRANSITIONS[order.status]:
        raise InvalidTransition(
            name=gettext("order %(number)s") % {"number": order.number}, source=order.status, target=target
        )


def check_return_transition(return_request: ReturnRequest, target: str) -> None:
    if target not in RETURN_TRANSITIONS[return_request.status]:
        raise InvalidTransition(
            name=gettext("return %(number)s") % {"number": return_request.number},
            source=return_request.status,
            target=target,
        )
