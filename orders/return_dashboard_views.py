"""The vendor dashboard's returns: the shop's requests by status, one request with its lines,
photos and timeline, and the shop's answers (accept, refuse, goods received). Thin views: reads
through orders.return_selectors with request.vendor, writes through orders.services.returns."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from marketplace.errors import DomainError, NotFound
from orders import return_selectors as selectors
from orders.forms import ReturnNoteForm
from orders.models import ReturnRequest
from orders.services import returns as services
from vendors.dashboard import dashboard_view

RS = ReturnRequest.Status
PAGE_SIZE = 20
# (tab key in ?status=, the status it shows, label). The first is the default: what needs an answer.
TABS = [
    ("requested", RS.REQUESTED, _("To answer")),
    ("accepted", RS.ACCEPTED, _("Accepted")),
    ("disputed", RS.DISPUTED, _("Disputed")),
    ("refused", RS.REFUSED, _("Refused")),
    ("refunded", RS.REFUNDED, _("Refunded")),
    ("closed", RS.CLOSED, _("Closed")),
    ("cancelled", RS.CANCELLED, _("Cancelled")),
    ("all", None, _("All")),
]


@dashboard_view("orders")
def return_list(request: HttpRequest) -> HttpResponse:
    statuses = {key: status for key, status, _label in TABS}
    tab = request.GET.get("status") or TABS[0][0]
    if tab not in statuses:
        tab = TABS[0][0]
    queryset = selectors.return_list_for_vendor(vendor=request.vendor, status=statuses[tab])
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.return_status_counts(vendor=request.vendor)
    tabs = [
        {"key": key, "label": label, "active": key == tab, "count": counts[status] if status else sum(counts.values())}
        for key, status, label in TABS
    ]
    return render(request, "orders/dashboard/return_list.html", {"page": page, "tabs": tabs, "tab": tab})


@dashboard_view("orders")
def return_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _render_detail(request, _get(request, number), ReturnNoteForm())


@dashboard_view("orders")
@require_POST
def return_accept(request: HttpRequest, number: str) -> HttpResponse:
    return_request = _get(request, number)
    return _act(
        request,
        return_request,
        lambda: services.return_request_accept(return_request=return_request, actor=request.user),
        _("Accepted. The buyer has been told what happens next."),
    )


@dashboard_view("orders")
@require_POST
def return_refuse(request: HttpRequest, number: str) -> HttpResponse:
    return_request = _get(request, number)
    form = ReturnNoteForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, return_request, form, status=400)
    return _act(
        request,
        return_request,
        lambda: services.return_request_refuse(
            return_request=return_request, actor=request.user, note=form.cleaned_data["note"]
        ),
        _("Refused. The buyer has been told why."),
    )


@dashboard_view("orders")
@require_POST
def return_goods_received(request: HttpRequest, number: str) -> HttpResponse:
    return_request = _get(request, number)
    return _act(
        request,
        return_request,
        lambda: services.return_request_goods_received(return_request=return_request, actor=request.user),
        _("Goods received: the units are back in stock and the refund is on its way."),
    )


def _get(request: HttpRequest, number: str) -> ReturnRequest:
    try:
        return selectors.return_get_for_vendor(vendor=request.vendor, number=number)
    except NotFound:
        raise Http404 from None


def _act(request: HttpRequest, return_request: ReturnRequest, action, success: str) -> HttpResponse:
    try:
        action()
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success)
    return redirect("orders:dashboard-return", number=return_request.number)


def _render_detail(
    request: HttpRequest, return_request: ReturnRequest, form: ReturnNoteForm, status: int = 200
) -> HttpResponse:
    context = {
        "return_request": return_request,
        "vendor_order": return_request.vendor_order,
        "reason": services.REASON_LABELS.get(return_request.reason, return_request.reason),
        "timeline": selectors.return_timeline_rows(return_request=return_request, show_actor=True),
        "can_answer": return_request.status in (RS.REQUESTED, RS.DISPUTED),
        "can_refuse": return_request.status == RS.REQUESTED,
        "can_receive_goods": selectors.return_awaits_goods(return_request=return_request),
        "form": form,
    }
    return render(request, "orders/dashboard/return_detail.html", context, status=status)
