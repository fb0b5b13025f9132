"""The allowed transitions of orders, in one place. Services check here before every change
and make the change with a conditional UPDATE ... WHERE status = <source>."""

from django.utils.translation import gettext

from marketplace.errors import InvalidTransition
from orders.models import Order, VendorOrder

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
