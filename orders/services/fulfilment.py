"""Shop orders after placement: paid, shipped, delivered, completed.

Every transition is one transaction that changes the row with a conditional
UPDATE ... WHERE status = <source> (so two requests, two workers or a replayed webhook cannot
apply it twice), writes an OrderEvent for the timeline and an AuditEvent, and notifies the
buyer and the shop's staff (in-app rows in the same transaction; e-mails after commit).
The allowed transitions live in orders/transitions.py.
"""

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.cache import products_changed
from catalog.models import Product
from marketplace.errors import DomainError, InvalidTransition, NotFound
from marketplace.models import AuditEvent, User
from marketplace.services import audit_record, notification_send
from orders.models import Order, OrderEvent, OrderLine, VendorOrder
from orders.transitions import check_order_transition, check_vendor_order_transition
from vendors.models import VendorMember
from vendors.selectors import role_allows

VO = VendorOrder.Status
AUTO_ADVANCE_BATCH = 500
CARRIER_MAX_LENGTH = 60
TRACKING_MAX_LENGTH = 60


class InvalidShipmentError(DomainError):
    code = "invalid_shipment"
    http_status = 400
    default_message = "{reason}"


# --- Payment ---------------------------------------------------------------------------


def order_mark_paid(*, order: Order, payment_reference: str) -> bool:
    """The provider confirmed the payment: the Order and all its shop orders become paid, and
    each product's sold count grows by the quantities bought.

    Idempotent: returns True when this call made the change, False when the order was already
    paid (nothing changes). Raises InvalidTransition when the order can no longer be paid
    (cancelled or expired); the caller then keeps the money aside for a refund."""
    with transaction.atomic():
        now = timezone.now()
        changed = Order.objects.filter(pk=order.pk, status=Order.Status.PENDING_PAYMENT).update(
            status=Order.Status.PAID, paid_at=now
        )
        if not changed:
            order.refresh_from_db(fields=["status", "paid_at"])
            if order.status == Order.Status.PAID:
                return False
            check_order_transition(order, Order.Status.PAID)
            raise InvalidTransition(
                name=_("order %(number)s") % {"number": order.number}, source=order.status, target=Order.Status.PAID
            )
        order.status, order.paid_at = Order.Status.PAID, now

        VendorOrder.objects.filter(order_id=order.pk, status=VO.PENDING_PAYMENT).update(status=VO.PAID, paid_at=now)
        sold = (
            OrderLine.objects.filter(vendor_order__order_id=order.pk)
            .values("product_id_snapshot")
            .annotate(units=Sum("quantity"))
            .order_by("product_id_snapshot")
        )
        # One UPDATE per product in primary-key order: concurrent payments touching the same
        # products then lock them in the same order and cannot deadlock.
        product_ids = []
        for row in sold:
            Product.objects.filter(pk=row["product_id_snapshot"]).update(sold_count=F("sold_count") + row["units"])
            product_ids.append(row["product_id_snapshot"])
        if product_ids:
            products_changed(product_ids=product_ids)  # "best-selling" listings move

        OrderEvent.objects.create(order=order, type="paid", data={"payment_reference": payment_reference})
        audit_record(actor=None, action="order.paid", obj=order, data={"payment_reference": payment_reference})

        vendor_orders = list(order.vendor_orders.select_related("vendor").order_by("pk"))
        _notify_buyer(
            order=order,
            kind="order.paid",
            title=_("Payment received for order %(number)s") % {"number": order.number},
            body=_("Your shops have been told to ship your order."),
        )
        for vendor_order in vendor_orders:
            _notify_shop_staff(
                vendor_order=vendor_order,
                kind="vendor_order.paid",
                title=_("New order to ship: %(number)s") % {"number": vendor_order.number},
                body=_("The buyer has paid. Pack and ship it, then enter the tracking number."),
            )
    return True


# --- Shipping and delivery -------------------------------------------------------------


def vendor_order_ship(*, vendor_order: VendorOrder, actor: User, carrier: str, tracking_number: str) -> VendorOrder:
    """The shop hands the parcel to a carrier: paid -> shipped, with carrier and tracking number.
    Only the shop's staff whose role covers orders may do it."""
    carrier = (carrier or "").strip()
    tracking_number = (tracking_number or "").strip()
    if not carrier or not tracking_number:
        raise InvalidShipmentError(reason=_("Carrier and tracking number are required."))
    if len(carrier) > CARRIER_MAX_LENGTH or len(tracking_number) > TRACKING_MAX_LENGTH:
        raise InvalidShipmentError(reason=_("Carrier and tracking number must be at most 60 characters."))
    _require_shop_staff(actor=actor, vendor_order=vendor_order)
    check_vendor_order_transition(vendor_order, VO.SHIPPED)
    with transaction.atomic():
        now = timezone.now()
        _transition(
            vendor_order=vendor_order,
            source=VO.PAID,
            target=VO.SHIPPED,
            fields={"carrier": carrier, "tracking_number": tracking_number, "shipped_at": now},
        )
        data = {"carrier": carrier, "tracking_number": tracking_number}
        OrderEvent.objects.create(
            order_id=vendor_order.order_id, vendor_order=vendor_order, actor=actor, type="shipped", data=data
        )
        audit_record(actor=actor, action="vendor_order.shipped", obj=vendor_order, data=data)
        order = vendor_order.order
        _notify_buyer(
            order=order,
            kind="vendor_order.shipped",
            title=_("%(shop)s shipped your order %(number)s")
            % {"shop": vendor_order.vendor.name, "number": order.number},
            body=_("Carrier: %(carrier)s, tracking number: %(tracking)s")
            % {"carrier": carrier, "tracking": tracking_number},
        )
    vendor_order.refresh_from_db()
    return vendor_order


def vendor_order_confirm_receipt(*, vendor_order: VendorOrder, actor: User) -> VendorOrder:
    """The buyer confirms the parcel arrived: shipped -> delivered. Only the order's buyer may."""
    if not actor.is_authenticated or vendor_order.order.buyer_id != actor.pk:
        raise NotFound(_("Order not found."))
    check_vendor_order_transition(vendor_order, VO.DELIVERED)
    with transaction.atomic():
        _transition(
            vendor_order=vendor_order, source=VO.SHIPPED, target=VO.DELIVERED, fields={"delivered_at": timezone.now()}
        )
        OrderEvent.objects.create(
            order_id=vendor_order.order_id, vendor_order=vendor_order, actor=actor, type="delivered"
        )
        audit_record(actor=actor, action="vendor_order.delivered", obj=vendor_order, data={"by": "buyer"})
        _notify_shop_staff(
            vendor_order=vendor_order,
            kind="vendor_order.delivered",
            title=_("The buyer confirmed receipt of %(number)s") % {"number": vendor_order.number},
        )
    vendor_order.refresh_from_db()
    return vendor_order


def vendor_order_complete(*, vendor_order: VendorOrder, actor: User | None = None) -> VendorOrder:
    """Closes a delivered shop order: delivered -> completed (the sweep does it after
    ORDER_AUTO_COMPLETE_DAYS; an admin may do it earlier)."""
    check_vendor_order_transition(vendor_order, VO.COMPLETED)
    with transaction.atomic():
        _transition(
            vendor_order=vendor_order, source=VO.DELIVERED, target=VO.COMPLETED, fields={"completed_at": timezone.now()}
        )
        OrderEvent.objects.create(
            order_id=vendor_order.order_id, vendor_order=vendor_order, actor=actor, type="completed"
        )
        audit_record(actor=actor, action="vendor_order.completed", obj=vendor_order)
        _notify_shop_staff(
            vendor_order=vendor_order,
            kind="vendor_order.completed",
            title=_("Order %(number)s is completed") % {"number": vendor_order.number},
            email=False,
        )
    vendor_order.refresh_from_db()
    return vendor_order


def vendor_orders_auto_advance(*, now: datetime) -> dict[str, int]:
    """The sweep: shipped orders older than ORDER_AUTO_DELIVER_DAYS become delivered, delivered
    orders older than ORDER_AUTO_COMPLETE_DAYS become completed. Set-wise, in batches of one
    transaction each; rows another worker holds are skipped (SKIP LOCKED) and rows already moved
    no longer match, so two sweeps at once or a re-run change nothing twice."""
    delivered = _advance_batches(
        source=VO.SHIPPED,
        target=VO.DELIVERED,
        since_field="shipped_at",
        stamp_field="delivered_at",
        cutoff=now - timedelta(days=settings.ORDER_AUTO_DELIVER_DAYS),
        now=now,
    )
    completed = _advance_batches(
        source=VO.DELIVERED,
        target=VO.COMPLETED,
        since_field="delivered_at",
        stamp_field="completed_at",
        cutoff=now - timedelta(days=settings.ORDER_AUTO_COMPLETE_DAYS),
        now=now,
    )
    return {"delivered": delivered, "completed": completed}


def _advance_batches(
    *, source: str, target: str, since_field: str, stamp_field: str, cutoff: datetime, now: datetime
) -> int:
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                VendorOrder.objects.filter(status=source, **{f"{since_field}__lte": cutoff})
                .select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", flat=True)[:AUTO_ADVANCE_BATCH]
            )
            if not ids:
                return total
            VendorOrder.objects.filter(pk__in=ids, status=source).update(status=target, **{stamp_field: now})
            moved = list(VendorOrder.objects.filter(pk__in=ids).select_related("order", "vendor"))
            OrderEvent.objects.bulk_create(
                OrderEvent(order_id=vo.order_id, vendor_order=vo, type=target, data={"automatic": True}) for vo in moved
            )
            AuditEvent.objects.bulk_create(
                AuditEvent(
                    action=f"vendor_order.{target}",
                    object_type=VendorOrder._meta.label_lower,
                    object_id=str(vo.pk),
                    data={"automatic": True},
                )
                for vo in moved
            )
            staff = _shop_staff_by_vendor({vo.vendor_id for vo in moved})
            for vo in moved:
                if target == VO.DELIVERED:
                    _notify_buyer(
                        order=vo.order,
                        kind="vendor_order.delivered",
                        title=_("Order %(number)s from %(shop)s is now marked delivered")
                        % {"number": vo.order.number, "shop": vo.vendor.name},
                        body=_("It was shipped %(days)s days ago.") % {"days": settings.ORDER_AUTO_DELIVER_DAYS},
                    )
                title = (
                    _("Order %(number)s was marked delivered automatically")
                    if target == VO.DELIVERED
                    else _("Order %(number)s is completed")
                ) % {"number": vo.number}
                for user in staff.get(vo.vendor_id, []):
                    notification_send(
                        user=user, kind=f"vendor_order.{target}", title=title, url=_dashboard_url(vo), email=False
                    )
            total += len(moved)
            if len(ids) < AUTO_ADVANCE_BATCH:
                return total


# --- Helpers ---------------------------------------------------------------------------


def _transition(*, vendor_order: VendorOrder, source: str, target: str, fields: dict) -> None:
    """The conditional UPDATE; on a lost race, re-read and refuse with the real current state."""
    changed = VendorOrder.objects.filter(pk=vendor_order.pk, status=source).update(status=target, **fields)
    if not changed:
        vendor_order.refresh_from_db(fields=["status"])
        raise InvalidTransition(
            name=_("shop order %(number)s") % {"number": vendor_order.number}, source=vendor_order.status, target=target
        )
    vendor_order.status = target


def _require_shop_staff(*, actor: User, vendor_order: VendorOrder) -> None:
    if actor.is_authenticated and actor.is_superuser:
        return
    member = VendorMember.objects.filter(vendor_id=vendor_order.vendor_id, user_id=actor.pk).first()
    if member is None or not role_allows(role=member.role, permission="orders"):
        raise NotFound(_("Order not found."))


def _dashboard_url(vendor_order: VendorOrder) -> str:
    return f"/dashboard/orders/{vendor_order.number}/"


def _shop_staff_by_vendor(vendor_ids: set[int]) -> dict[int, list[User]]:
    staff: dict[int, list[User]] = defaultdict(list)
    for member in VendorMember.objects.filter(vendor_id__in=vendor_ids).select_related("user").order_by("pk"):
        if role_allows(role=member.role, permission="orders") and member.user.is_active:
            staff[member.vendor_id].append(member.user)
    return staff


def _notify_buyer(*, order: Order, kind: str, title: str, body: str = "") -> None:
    notification_send(user=order.buyer, kind=kind, title=title, body=body, url=f"/orders/{order.number}/")


def _notify_shop_staff(*, vendor_order: VendorOrder, kind: str, title: str, body: str = "", email: bool = True) -> None:
    for user in _shop_staff_by_vendor({vendor_order.vendor_id}).get(vendor_order.vendor_id, []):
        notification_send(user=user, kind=kind, title=title, body=body, url=_dashboard_url(vendor_order), email=email)
