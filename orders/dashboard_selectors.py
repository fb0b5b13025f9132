"""Reads for the vendor's order dashboard and the vendor orders API. Every read takes the
shop (request.vendor) and never returns another shop's rows."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Max, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext

from marketplace.errors import NotFound
from orders.models import OrderEvent, OrderLine, VendorOrder
from vendors.models import Vendor

VO = VendorOrder.Status
# Shop orders that count as sales: the buyer paid and nothing was cancelled.
SOLD_STATUSES = [VO.PAID, VO.SHIPPED, VO.DELIVERED, VO.COMPLETED]
# The buyer's shipping address is shown to the shop only once it has to ship.
ADDRESS_VISIBLE_STATUSES = {VO.PAID, VO.SHIPPED, VO.DELIVERED, VO.COMPLETED}


def vendor_order_list_for_vendor(*, vendor: Vendor, status: str | None = None) -> QuerySet[VendorOrder]:
    """The shop's orders, newest first (oldest first for the 'to ship' queue), with what a list
    shows loaded in a fixed number of queries: the order and buyer joined, lines prefetched."""
    queryset = (
        VendorOrder.objects.filter(vendor=vendor)
        .select_related("order", "order__buyer")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
    )
    if status:
        queryset = queryset.filter(status=status)
    if status == VO.PAID:
        return queryset.order_by("paid_at", "id")
    return queryset.order_by("-created_at", "-id")


def vendor_order_get_for_vendor(*, vendor: Vendor, number: str) -> VendorOrder:
    """One of the shop's orders by number; NotFound for any other shop's (indistinguishable from
    a number that does not exist)."""
    vendor_order = (
        VendorOrder.objects.filter(vendor=vendor, number=number)
        .select_related("order", "order__buyer", "vendor")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
        .first()
    )
    if vendor_order is None:
        raise NotFound(gettext("Order not found."))
    return vendor_order


def vendor_order_timeline(*, vendor_order: VendorOrder) -> list[OrderEvent]:
    """This shop order's events and the whole order's own events (placed, paid), oldest first;
    never the events of the other shops in the same order."""
    return list(
        OrderEvent.objects.filter(order_id=vendor_order.order_id)
        .filter(Q(vendor_order=vendor_order) | Q(vendor_order__isnull=True))
        .select_related("actor")
        .order_by("created_at", "id")
    )


def vendor_order_shipping_address(*, vendor_order: VendorOrder) -> dict | None:
    if vendor_order.status not in ADDRESS_VISIBLE_STATUSES:
        return None
    return vendor_order.order.shipping_address or {}


def vendor_order_status_counts(*, vendor: Vendor) -> dict[str, int]:
    counts = {status: 0 for status in VO.values}
    for row in VendorOrder.objects.filter(vendor=vendor).values("status").annotate(count=Count("id")).order_by():
        counts[row["status"]] = row["count"]
    return counts


@dataclass
class SalesDay:
    day: date
    revenue: Decimal = Decimal("0.00")
    orders: int = 0


@dataclass
class TopProduct:
    product_id: int
    title: str
    units: int
    revenue: Decimal


@dataclass
class SalesSummary:
    start: date
    end: date
    currency: str
    days: list[SalesDay] = field(default_factory=list)
    revenue: Decimal = Decimal("0.00")
    orders: int = 0
    units: int = 0
    top_products: list[TopProduct] = field(default_factory=list)


def vendor_sales_summary(*, vendor: Vendor, now: datetime, days: int = 30, top: int = 5) -> SalesSummary:
    """Sales of the last `days` days (today included, in the site's time zone) by the day the
    buyer paid: revenue (what buyers paid this shop, shipping included), orders, units, and the
    best-selling products. Four queries whatever the volume."""
    end = timezone.localdate(now)
    start = end - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(start, time.min))
    sold = VendorOrder.objects.filter(vendor=vendor, status__in=SOLD_STATUSES, paid_at__gte=since, paid_at__lte=now)

    per_day = {
        row["day"]: row
        for row in sold.annotate(day=TruncDate("paid_at"))
        .values("day")
        .annotate(revenue=Sum("total"), orders=Count("id"))
        .order_by("day")
    }
    summary = SalesSummary(start=start, end=end, currency=vendor.currency)
    for offset in range(days):
        day = start + timedelta(days=offset)
        row = per_day.get(day)
        sales_day = SalesDay(day=day)
        if row:
            sales_day.revenue, sales_day.orders = row["revenue"] or Decimal("0.00"), row["orders"]
        summary.days.append(sales_day)
        summary.revenue += sales_day.revenue
        summary.orders += sales_day.orders

    lines = OrderLine.objects.filter(vendor_order__in=sold)
    summary.units = lines.aggregate(units=Sum("quantity"))["units"] or 0
    summary.top_products = [
        TopProduct(
            product_id=row["product_id_snapshot"], title=row["title"], units=row["units"], revenue=row["revenue"]
        )
        for row in lines.values("product_id_snapshot")
        .annotate(units=Sum("quantity"), revenue=Sum("line_total"), title=Max("product_title"))
        .order_by("-units", "-revenue", "product_id_snapshot")[:top]
    ]
    return summary
