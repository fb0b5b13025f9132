"""The vendor dashboard: the overview (home) and the shop's orders. Thin views: every read
goes through orders.dashboard_selectors with request.vendor, every write through a service."""

from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from marketplace.errors import DomainError, NotFound
from marketplace.money import format_money
from orders import dashboard_selectors as selectors
from orders.models import VendorOrder
from orders.services.fulfilment import CARRIER_MAX_LENGTH, TRACKING_MAX_LENGTH, vendor_order_ship
from vendors.dashboard import dashboard_view

VO = VendorOrder.Status
PAGE_SIZE = 20
# (tab key in ?status=, the VendorOrder status it shows, label). The first is the default.
TABS = [
    ("to_ship", VO.PAID, _("To ship")),
    ("shipped", VO.SHIPPED, _("Shipped")),
    ("delivered", VO.DELIVERED, _("Delivered")),
    ("completed", VO.COMPLETED, _("Completed")),
    ("pending_payment", VO.PENDING_PAYMENT, _("Awaiting payment")),
    ("cancelled", VO.CANCELLED, _("Cancelled")),
    ("all", None, _("All")),
]
COMMON_CARRIERS = [
    "SF Express 顺丰",
    "JD Logistics 京东物流",
    "ZTO 中通",
    "YTO 圆通",
    "STO 申通",
    "Yunda 韵达",
    "EMS",
    "China Post 中国邮政",
]
EVENT_LABELS = {
    "placed": _("Order placed"),
    "paid": _("Paid"),
    "shipped": _("Shipped"),
    "delivered": _("Delivered"),
    "completed": _("Completed"),
    "cancelled": _("Cancelled"),
    "expired": _("Expired unpaid"),
    "cancelled_by_buyer": _("Cancelled by the buyer"),
}


class ShipForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=CARRIER_MAX_LENGTH)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=TRACKING_MAX_LENGTH)


@dashboard_view("overview")
def home(request: HttpRequest) -> HttpResponse:
    vendor = request.vendor
    summary = selectors.vendor_sales_summary(vendor=vendor, now=timezone.now())
    counts = selectors.vendor_order_status_counts(vendor=vendor)
    return render(
        request,
        "orders/dashboard/home.html",
        {
            "counts": counts,
            "summary": summary,
            "revenue": format_money(summary.revenue, summary.currency),
            "chart": _sales_chart(summary),
            "top_products": [
                {
                    "title": product.title,
                    "units": product.units,
                    "revenue": format_money(product.revenue, summary.currency),
                }
                for product in summary.top_products
            ],
        },
    )


@dashboard_view("orders")
def order_list(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("status") or TABS[0][0]
    statuses = {key: status for key, status, _label in TABS}
    if tab not in statuses:
        tab = TABS[0][0]
    queryset = selectors.vendor_order_list_for_vendor(vendor=request.vendor, status=statuses[tab])
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "vendor_order": vendor_order,
            "total": format_money(vendor_order.total, vendor_order.currency),
            "units": sum(line.quantity for line in vendor_order.lines.all()),
            "lines": vendor_order.lines.all(),
        }
        for vendor_order in page.object_list
    ]
    counts = selectors.vendor_order_status_counts(vendor=request.vendor)
    tabs = [
        {"key": key, "label": label, "active": key == tab, "count": counts[status] if status else sum(counts.values())}
        for key, status, label in TABS
    ]
    return render(request, "orders/dashboard/order_list.html", {"rows": rows, "page": page, "tabs": tabs, "tab": tab})


@dashboard_view("orders")
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    vendor_order = _get(request, number)
    return _render_detail(request, vendor_order, ShipForm())


@dashboard_view("orders")
@require_POST
def order_ship(request: HttpRequest, number: str) -> HttpResponse:
    vendor_order = _get(request, number)
    form = ShipForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, vendor_order, form, status=400)
    try:
        vendor_order_ship(
            vendor_order=vendor_order,
            actor=request.user,
            carrier=form.cleaned_data["carrier"],
            tracking_number=form.cleaned_data["tracking_number"],
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Marked as shipped. The buyer has been notified."))
    return redirect("orders:dashboard-order", number=vendor_order.number)


def _get(request: HttpRequest, number: str) -> VendorOrder:
    try:
        return selectors.vendor_order_get_for_vendor(vendor=request.vendor, number=number)
    except NotFound:
        raise Http404 from None


def _render_detail(request: HttpRequest, vendor_order: VendorOrder, form: ShipForm, status: int = 200) -> HttpResponse:
    currency = vendor_order.currency
    lines = [
        {
            "line": line,
            "unit_price": format_money(line.unit_price, currency),
            "line_total": format_money(line.line_total, currency),
        }
        for line in vendor_order.lines.all()
    ]
    timeline = [
        {
            "event": event,
            "label": EVENT_LABELS.get(event.type, event.type),
            # Who did it is shown for this shop's own events only.
            "actor": event.actor.public_name if event.actor and event.vendor_order_id else "",
        }
        for event in selectors.vendor_order_timeline(vendor_order=vendor_order)
    ]
    return render(
        request,
        "orders/dashboard/order_detail.html",
        {
            "vendor_order": vendor_order,
            "lines": lines,
            "items_total": format_money(vendor_order.items_total, currency),
            "shipping_total": format_money(vendor_order.shipping_total, currency),
            "total": format_money(vendor_order.total, currency),
            "address": selectors.vendor_order_shipping_address(vendor_order=vendor_order),
            "timeline": timeline,
            "form": form,
            "can_ship": vendor_order.status == VO.PAID,
            "carriers": COMMON_CARRIERS,
        },
        status=status,
    )


# --- The sales chart: plain SVG computed here, no JavaScript ----------------------------

CHART_HEIGHT = 160
CHART_BAR = 16
CHART_GAP = 4
CHART_LEFT = 8
CHART_TOP = 16


def _sales_chart(summary: selectors.SalesSummary) -> dict:
    peak = max((day.revenue for day in summary.days), default=Decimal(0))
    bars = []
    for index, day in enumerate(summary.days):
        height = 0
        if peak > 0 and day.revenue > 0:
            scaled = (day.revenue / peak * CHART_HEIGHT).quantize(Decimal(1), rounding=ROUND_HALF_UP)
            height = max(int(scaled), 1)
        x = CHART_LEFT + index * (CHART_BAR + CHART_GAP)
        bars.append(
            {
                "x": x,
                "y": CHART_TOP + CHART_HEIGHT - height,
                "width": CHART_BAR,
                "height": height,
                "label_x": x + CHART_BAR // 2,
                "day": day.day,
                "show_label": index % 5 == 0 or index == len(summary.days) - 1,
                "title": f"{day.day:%m-%d}: {format_money(day.revenue, summary.currency)} · {day.orders}",
            }
        )
    width = CHART_LEFT * 2 + len(bars) * (CHART_BAR + CHART_GAP)
    return {
        "bars": bars,
        "width": width,
        "height": CHART_TOP + CHART_HEIGHT + 24,
        "baseline": CHART_TOP + CHART_HEIGHT,
        "label_y": CHART_TOP + CHART_HEIGHT + 16,
        "peak": format_money(peak, summary.currency),
    }
