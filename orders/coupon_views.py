"""Coupon pages: the shop's coupons in its dashboard (owners and managers) and the buyer's
claim button on a shop page. Thin: forms check shape, orders.services.coupons decides; a
shop's coupon is fetched only through coupon_get_for_vendor (another shop's is a 404)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from marketplace.errors import DomainError, NotFound
from orders.coupon_forms import CouponForm
from orders.coupon_selectors import coupon_get_for_vendor, coupon_list_for_vendor
from orders.services.coupons import coupon_claim, coupon_create, coupon_deactivate
from vendors.dashboard import dashboard_view

COUPONS_PER_PAGE = 25


@require_GET
@dashboard_view("coupons")
def coupon_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(coupon_list_for_vendor(vendor=request.vendor), COUPONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "orders/dashboard/coupon_list.html", {"page": page, "now": timezone.now()})


@require_http_methods(["GET", "POST"])
@dashboard_view("coupons")
def coupon_new(request: HttpRequest) -> HttpResponse:
    form = CouponForm(request.POST or None, vendor=request.vendor)
    if request.method == "POST" and form.is_valid():
        try:
            coupon = coupon_create(vendor=request.vendor, actor=request.user, data=form.cleaned_data)
        except DomainError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("Coupon “%(name)s” created.") % {"name": coupon.name})
            return redirect("orders:dashboard-coupons")
    status = 400 if form.errors else 200
    return render(request, "orders/dashboard/coupon_form.html", {"form": form}, status=status)


@require_POST
@dashboard_view("coupons")
def coupon_stop(request: HttpRequest, coupon_id: int) -> HttpResponse:
    try:
        coupon = coupon_get_for_vendor(vendor=request.vendor, coupon_id=coupon_id)
    except NotFound:
        raise Http404(_("Coupon not found.")) from None
    if coupon_deactivate(coupon=coupon, actor=request.user):
        messages.success(request, _("Coupon “%(name)s” deactivated.") % {"name": coupon.name})
    return redirect("orders:dashboard-coupons")


@login_required
@require_POST
def claim(request: HttpRequest, coupon_id: int) -> HttpResponse:
    """The claim button of a shop page: back to the page with a message."""
    try:
        coupon_claim(coupon_id=coupon_id, user=request.user)
        messages.success(request, _("The coupon is yours: choose it at checkout."))
    except NotFound:
        raise Http404(_("Coupon not found.")) from None
    except DomainError as error:
        messages.error(request, str(error))
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)
