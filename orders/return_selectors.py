"""Reads for returns and refund requests: what a shop order can still have returned, and the
requests as the buyer, the shop and the platform see them. Tenant data only through
*_for_buyer / *_for_vendor helpers, which raise NotFound for anything outside the caller's reach."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Prefetch, QuerySet, Sum
from django.utils.translation import gettext, gettext_lazy

from marketplace.errors import NotFound
from marketplace.models import User
from orders.models import OrderEvent, OrderLine, ReturnLine, ReturnPhoto, ReturnRequest, VendorOrder
from vendors.models import Vendor
from vendors.selectors import role_allows, vendor_memberships_for_user

VO = VendorOrder.Status
RS = ReturnRequest.Status
# Shop orders the buyer has paid for and that were not cancelled.
RETURNABLE_STATUSES = (VO.PAID, VO.SHIPPED, VO.DELIVERED, VO.COMPLETED)
# Requests whose units and money are no longer claimed: the buyer may ask again for them.
NOT_CLAIMING_STATUSES = (RS.CANCELLED, RS.REFUSED)


def return_window_end(*, vendor_order: VendorOrder) -> datetime | None:
    """When the buyer can no longer ask: RETURN_WINDOW_DAYS after delivery (or completion, when
    delivery was never confirmed). None before delivery: until then the buyer may always ask."""
    received = vendor_order.delivered_at or vendor_order.completed_at
    if received is None:
        return None
    return received + timedelta(days=settings.RETURN_WINDOW_DAYS)


def vendor_order_is_settled(*, vendor_order_id: int) -> bool:
    """payments writes one Settlement per settled shop order; orders may not import payments,
    so the reverse relation is read through VendorOrder itself."""
    return not VendorOrder.objects.filter(pk=vendor_order_id, settlement__isnull=True).exists()


def vendor_order_return_refusal(*, vendor_order: VendorOrder, now: datetime) -> str | None:
    """Why no return or refund can be requested for this shop order now; None when one can."""
    if vendor_order.status not in RETURNABLE_STATUSES:
        return gettext("Only paid orders can be returned or refunded.")
    window_end = return_window_end(vendor_order=vendor_order)
    if window_end is not None and now > window_end:
        return gettext("The return window of %(days)s days after delivery is over.") % {
            "days": settings.RETURN_WINDOW_DAYS
        }
    if vendor_order_is_settled(vendor_order_id=vendor_order.pk):
        return gettext("This order has been settled with the shop; returns are closed.")
    return None


@dataclass(frozen=True)
class LineClaim:
    """Units of an order line and the money for them already claimed by return requests."""

    quantity: int = 0
    amount: Decimal = Decimal(0)


def return_claims_by_line(*, vendor_order_id: int, exclude_return_id: int | None = None) -> dict[int, LineClaim]:
    """Per order line id: what every request still claiming (not cancelled, not refused) asks
    for. Read it under the shop order's row lock when the answer decides a write."""
    rows = ReturnLine.objects.filter(return_request__vendor_order_id=vendor_order_id).exclude(
        return_request__status__in=NOT_CLAIMING_STATUSES
    )
    if exclude_return_id is not None:
        rows = rows.exclude(return_request_id=exclude_return_id)
    totals = rows.values("order_line_id").annotate(units=Sum("quantity"), money=Sum("amount")).order_by()
    return {row["order_line_id"]: LineClaim(row["units"], row["money"]) for row in totals}


@dataclass(frozen=True)
class ReturnableLine:
    line: OrderLine
    available: int


def returnable_lines(*, vendor_order: VendorOrder) -> list[ReturnableLine]:
    """The shop order's lines with how many units can still be asked back (for the form)."""
    claims = return_claims_by_line(vendor_order_id=vendor_order.pk)
    return [
        ReturnableLine(line, max(line.quantity - claims.get(line.pk, LineClaim()).quantity, 0))
        for line in OrderLine.objects.filter(vendor_order=vendor_order).order_by("id")
    ]


def return_awaits_goods(*, return_request: ReturnRequest) -> bool:
    """Accepted as a return, and the goods have not been received (nor the refund approved)."""
    return (
        return_request.kind == ReturnRequest.Kind.RETURN_AND_REFUND
        and return_request.status == RS.ACCEPTED
        and return_request.goods_received_at is None
        and return_request.refund_approved_at is None
    )


def return_can_be_cancelled(*, return_request: ReturnRequest) -> bool:
    """Open, and the refund not yet approved (once it is, money is on its way)."""
    return return_request.status in ReturnRequest.OPEN_STATUSES and return_request.refund_approved_at is None


def _with_details(queryset: QuerySet[ReturnRequest]) -> QuerySet[ReturnRequest]:
    return queryset.select_related(
        "vendor_order", "vendor_order__vendor", "vendor_order__order", "buyer"
    ).prefetch_related(
        Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line").order_by("id")), "photos"
    )


def return_list_for_buyer(*, buyer: User) -> QuerySet[ReturnRequest]:
    return _with_details(ReturnRequest.objects.filter(buyer=buyer)).order_by("-created_at", "-id")


def return_get_for_buyer(*, buyer: User, number: str) -> ReturnRequest:
    """The buyer's own request; another buyer's is indistinguishable from a missing one."""
    if not buyer.is_authenticated:
        raise NotFound(gettext("Return not found."))
    return_request = _with_details(ReturnRequest.objects.filter(buyer=buyer, number=str(number)[:40])).first()
    if return_request is None:
        raise NotFound(gettext("Return not found."))
    return return_request


def return_list_for_vendor(*, vendor: Vendor, status: str | None = None) -> QuerySet[ReturnRequest]:
    queryset = _with_details(ReturnRequest.objects.filter(vendor_order__vendor=vendor))
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at", "-id")


def return_get_for_vendor(*, vendor: Vendor, number: str) -> ReturnRequest:
    """One of the shop's requests; another shop's is "not found"."""
    return_request = _with_details(
        ReturnRequest.objects.filter(vendor_order__vendor=vendor, number=str(number)[:40])
    ).first()
    if return_request is None:
        raise NotFound(gettext("Return not found."))
    return return_request


def return_status_counts(*, vendor: Vendor) -> dict[str, int]:
    counts = dict.fromkeys(RS.values, 0)
    for row in (
        ReturnRequest.objects.filter(vendor_order__vendor=vendor).values("status").annotate(n=Count("id")).order_by()
    ):
        counts[row["status"]] = row["n"]
    return counts


def return_timeline(*, return_request: ReturnRequest) -> list[OrderEvent]:
    """The request's own events, oldest first (every return action writes one with its number)."""
    return list(
        OrderEvent.objects.filter(vendor_order_id=return_request.vendor_order_id, data__return=return_request.number)
        .select_related("actor")
        .order_by("created_at", "id")
    )


def returns_by_vendor_order(*, vendor_order_ids: list[int]) -> dict[int, list[ReturnRequest]]:
    """The requests of these shop orders, newest first, for the buyer's order page."""
    grouped: dict[int, list[ReturnRequest]] = {pk: [] for pk in vendor_order_ids}
    for return_request in ReturnRequest.objects.filter(vendor_order_id__in=vendor_order_ids).order_by(
        "-created_at", "-id"
    ):
        grouped[return_request.vendor_order_id].append(return_request)
    return grouped


RETURN_EVENT_LABELS = {
    "return_requested": gettext_lazy("Requested by the buyer"),
    "return_accepted": gettext_lazy("Accepted by the shop"),
    "return_refused": gettext_lazy("Refused by the shop"),
    "return_disputed": gettext_lazy("Disputed by the buyer"),
    "return_arbitrated_refund": gettext_lazy("The platform ordered a refund"),
    "return_arbitrated_refuse": gettext_lazy("The platform refused the request"),
    "return_shipped_back": gettext_lazy("Goods sent back by the buyer"),
    "return_goods_received": gettext_lazy("Goods received by the shop"),
    "return_cancelled": gettext_lazy("Cancelled by the buyer"),
    "return_refunded": gettext_lazy("Refunded"),
}


def return_timeline_rows(*, return_request: ReturnRequest, show_actor: bool) -> list[dict]:
    """The timeline as pages show it: label, time, the note or tracking number it carried."""
    rows = []
    for event in return_timeline(return_request=return_request):
        data = event.data or {}
        detail = data.get("note") or data.get("reason") if event.type != "return_requested" else ""
        if event.type == "return_shipped_back":
            detail = f"{data.get('carrier', '')} {data.get('tracking_number', '')}".strip()
        rows.append(
            {
                "at": event.created_at,
                "type": event.type,
                "label": RETURN_EVENT_LABELS.get(event.type, event.type),
                "detail": detail or "",
                "actor": event.actor.public_name if show_actor and event.actor else "",
            }
        )
    return rows


def return_photo_get(*, user: User, number: str, photo_id: int) -> ReturnPhoto:
    """A return's photo for someone allowed to see it: the buyer, the shop's staff whose role
    opens orders, or a platform admin who may view returns. NotFound for anyone else."""
    photo = (
        ReturnPhoto.objects.select_related("return_request__vendor_order")
        .filter(pk=photo_id, return_request__number=number)
        .first()
    )
    if photo is None or not user.is_authenticated:
        raise NotFound(gettext("Photo not found."))
    return_request = photo.return_request
    if return_request.buyer_id == user.pk:
        return photo
    if user.is_staff and user.has_perm("orders.view_returnrequest"):
        return photo
    member = vendor_memberships_for_user(user=user).filter(vendor_id=return_request.vendor_order.vendor_id).first()
    if member is not None and role_allows(role=member.role, permission="orders"):
        return photo
    raise NotFound(gettext("Photo not found."))
