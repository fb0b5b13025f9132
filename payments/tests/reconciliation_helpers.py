"""A day of money at the sandbox gateway, for the reconciliation and money-admin stories."""

from decimal import Decimal

from orders.models import OrderLine
from payments.models import Payout, Refund, Settlement
from payments.services.calls import calls_send_due
from payments.services.payouts import payout_request
from payments.services.refunds import refund_create
from payments.services.settlement import settle_due
from payments.tests.money_helpers import complete, paid_order

D = Decimal


def send_all_calls() -> None:
    """What the worker does after each commit (tests do not commit): every due call, including
    those released by the calls they waited for."""
    while calls_send_due():
        pass


def a_day_of_money(*, buyer, shop, variant) -> dict:
    """Two captures, a settlement with its split, a refund after it (the shop's and the platform's shares returned
    first), a refund before settlement, and a payout, all sent to the sandbox gateway."""
    settled_order, settled_payment = paid_order(buyer=buyer, items={shop: [(variant, 2)]}, shipping="0.00")
    vendor_order = complete(settled_order.vendor_orders.get(), delivered_days_ago=8)
    settle_due()
    send_all_calls()
    line = OrderLine.objects.get(vendor_order=vendor_order)
    late_refund = refund_create(vendor_order=vendor_order, actor=buyer, reason="late claim", lines=[(line, D("10.00"))])

    open_order, open_payment = paid_order(buyer=buyer, items={shop: [(variant, 1)]}, shipping="0.00")
    open_line = OrderLine.objects.get(vendor_order__order=open_order)
    early_refund = refund_create(
        vendor_order=open_line.vendor_order, actor=buyer, reason="changed mind", lines=[(open_line, D("30.00"))]
    )
    send_all_calls()
    payout = payout_request(owner_type="vendor", owner_key=shop.pk, currency="CNY", actor=None, amount=D("50.00"))
    send_all_calls()
    return {
        "settled_payment": settled_payment,
        "open_payment": open_payment,
        "settlement": Settlement.objects.get(vendor_order=vendor_order),
        "late_refund": Refund.objects.get(pk=late_refund.pk),
        "early_refund": Refund.objects.get(pk=early_refund.pk),
        "payout": Payout.objects.get(pk=payout.pk),
    }
