"""Stories about money need paid, shipped, delivered and completed shop orders: this module
drives them through the real services and the sandbox gateway's signed notification."""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from orders.models import Order, VendorOrder
from orders.services.fulfilment import vendor_order_complete, vendor_order_confirm_receipt, vendor_order_ship
from orders.tests.fulfilment_factories import placed_order
from payments import ledger
from payments.models import LedgerAccount, Payment, Posting
from payments.tests.helpers import body_for, deliver, press, start_payment
from vendors.models import VendorMember
from vendors.tests.factories import VendorMemberFactory


def pay(order: Order, *, password: str = "") -> Payment:
    """The buyer pays the order in the sandbox; the gateway's notification captures it."""
    client = Client()
    client.force_login(order.buyer)
    payment, charge = start_payment(client, order)
    press(client, charge, "pay")
    response = deliver(Client(), body_for(charge))
    assert response.status_code == 200, response.content
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED
    return payment


def paid_order(*, buyer, items, shipping: str = "10.00") -> tuple[Order, Payment]:
    order = placed_order(buyer=buyer, items=items, shipping=shipping)
    return order, pay(order)


def shop_owner(vendor_order: VendorOrder):
    member = VendorMember.objects.filter(vendor=vendor_order.vendor).select_related("user").first()
    if member is None:
        member = VendorMemberFactory(vendor=vendor_order.vendor)
    return member.user


def complete(vendor_order: VendorOrder, *, delivered_days_ago: int = 0) -> VendorOrder:
    """Ship, deliver (buyer confirms) and complete; optionally pretend delivery was long ago."""
    vendor_order.refresh_from_db()
    vendor_order_ship(vendor_order=vendor_order, actor=shop_owner(vendor_order), carrier="SF", tracking_number="SF1")
    vendor_order_confirm_receipt(vendor_order=vendor_order, actor=vendor_order.order.buyer)
    vendor_order.refresh_from_db()
    if vendor_order.status != VendorOrder.Status.COMPLETED:
        vendor_order_complete(vendor_order=vendor_order)
    if delivered_days_ago:
        past = timezone.now() - timedelta(days=delivered_days_ago)
        VendorOrder.objects.filter(pk=vendor_order.pk).update(delivered_at=past, completed_at=past)
    vendor_order.refresh_from_db()
    return vendor_order


def balance(owner_type: str, owner_key, purpose: str, currency: str = "CNY") -> Decimal:
    """The account's balance as the ledger has it (debit positive, credit negative)."""
    account = LedgerAccount.objects.filter(
        owner_type=owner_type, owner_key=str(owner_key or ""), purpose=purpose, currency=currency
    ).first()
    if account is None:
        return Decimal("0.00")
    return ledger.account_balance(account=account)


def owed_to(owner_type: str, owner_key, purpose: str, currency: str = "CNY") -> Decimal:
    """What a credit-normal account owes its owner (its balance with the sign turned)."""
    return -balance(owner_type, owner_key, purpose, currency)


def ledger_snapshot() -> list[tuple]:
    """The whole ledger as comparable data: every entry key with its postings (ids left out)."""
    rows = (
        Posting.objects.values_list(
            "entry__idempotency_key", "account__owner_type", "account__owner_key", "account__purpose", "currency"
        )
        .annotate(total=Sum("amount"))
        .order_by("entry__idempotency_key", "account__owner_type", "account__owner_key", "account__purpose")
    )
    return [tuple(row) for row in rows]
