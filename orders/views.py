"""Buyer pages: cart, checkout, address book, order history and detail. Thin: each view parses
input, calls one service or selector, and turns domain errors into messages."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.referrals import referrals_in_session
from marketplace.errors import DomainError, NotFound
from marketplace.uploads import private_file_response
from orders import return_selectors, selectors
from orders.forms import AddressForm, ReturnNoteForm, ReturnRequestForm, ReturnShipBackForm
from orders.models import Order, ReturnRequest, VendorOrder
from orders.services import addresses as address_services
from orders.services import cart as cart_services
from orders.services import checkout as checkout_services
from orders.services import returns as return_services
from orders.services.fulfilment import vendor_order_confirm_receipt

ORDERS_PER_PAGE = 10


def _safe_next(request: HttpRequest, fallback: str) -> str:
    for candidate in (request.POST.get("next"), request.GET.get("next"), request.META.get("HTTP_REFERER")):
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
    return fallback


def _session_key(request: HttpRequest) -> str:
    """The visitor's session key, creating the session (and its cookie) if there is none yet."""
    if not request.session.session_key:
        request.session["has_cart"] = True  # marks the session modified, so the cookie is sent
        request.session.save()
    return request.session.session_key


def _cart_for_write(request: HttpRequest):
    user = request.user if request.user.is_authenticated else None
    session_key = None if user else _session_key(request)
    return cart_services.cart_get_or_create(user=user, session_key=session_key)


def _cart_for_read(request: HttpRequest):
    return selectors.cart_find(user=request.user, session_key=request.session.session_key)


# --- Cart ----------------------------------------------------------------------------------
def _render_cart(request: HttpRequest, *, partial: bool = False) -> HttpResponse:
    summary = selectors.cart_summary(_cart_for_read(request))
    template = "orders/_cart_body.html" if partial else "orders/cart.html"
    return render(request, template, {"summary": summary, "max_quantity": settings.CART_MAX_LINE_QUANTITY})


@require_GET
def cart_detail(request: HttpRequest) -> HttpResponse:
    return _render_cart(request, partial=bool(request.htmx))


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    """The product page posts variant and quantity here; errors come back as messages."""
    try:
        cart_services.cart_add_line(
            cart=_cart_for_write(request),
            variant_id=request.POST.get("variant", ""),
            quantity=request.POST.get("quantity", "1"),
            referrals=referrals_in_session(request.session),
        )
    except DomainError as error:
        messages.error(request, str(error))
        if request.htmx:
            return render(request, "orders/_cart_added.html", {"ok": False}, status=200)
        return redirect(_safe_next(request, reverse("orders:cart")))
    messages.success(request, _("Added to your cart."))
    if request.htmx:
        return render(request, "orders/_cart_added.html", {"ok": True})
    return redirect(_safe_next(request, reverse("orders:cart")))


def _cart_line_change(request: HttpRequest, action) -> HttpResponse:
    cart = _cart_for_read(request)
    try:
        if cart is None:
            raise NotFound(_("Cart line not found."))
        action(cart)
    except DomainError as error:
        messages.error(request, str(error))
    if request.htmx:
        return _render_cart(request, partial=True)
    return redirect("orders:cart")


@require_POST
def cart_line_update(request: HttpRequest, line_id: int) -> HttpResponse:
    quantity = request.POST.get("quantity", "")
    return _cart_line_change(
        request, lambda cart: cart_services.cart_set_quantity(cart=cart, line_id=line_id, quantity=quantity)
    )


@require_POST
def cart_line_remove(request: HttpRequest, line_id: int) -> HttpResponse:
    return _cart_line_change(request, lambda cart: cart_services.cart_remove_line(cart=cart, line_id=line_id))


# --- Checkout ------------------------------------------------------------------------------
def _shipping_choices(data) -> dict[int, int]:
    choices = {}
    for key, value in data.items():
        if key.startswith("shipping-") and key[9:].isdigit() and value.isdigit():
            choices[int(key[9:])] = int(value)
    return choices


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    cart = selectors.cart_find(user=request.user, session_key=None)
    data = request.POST if request.method == "POST" else request.GET
    addresses = list(selectors.address_list_for_user(user=request.user))
    address = next((a for a in addresses if str(a.pk) == data.get("address")), None)
    if address is None and request.method == "GET" and addresses:
        address = addresses[0]  # ordering puts the default first
    # The code field and the claimed coupons' boxes share the name "coupon".
    coupon_codes = [value for value in data.getlist("coupon") if value.strip()]

    if request.method == "POST":
        try:
            if cart is None:
                raise checkout_services.CartEmpty()
            if address is None:
                raise NotFound(_("Choose a delivery address."))
            order = checkout_services.order_place(
                buyer=request.user,
                cart=cart,
                address=address,
                shipping_choices=_shipping_choices(data),
                coupon_codes=coupon_codes,
            )
        except DomainError as error:
            messages.error(request, str(error))
            # Back to the page as it was: the coupon that failed shows its reason there too.
            query = {"address": address.pk} if address else {}
            query.update({key: value for key, value in data.items() if key.startswith("shipping-")})
            if coupon_codes:
                query["coupon"] = coupon_codes
            return HttpResponseRedirect(reverse("orders:checkout") + "?" + urlencode(query, doseq=True))
        return redirect(selectors.order_payment_url(order.number))

    summary = selectors.cart_summary(cart)
    if summary.is_empty:
        messages.info(request, _("Your cart is empty."))
        return redirect("orders:cart")
    context = {
        "checkout": selectors.checkout_summary(
            cart=summary,
            address=address,
            shipping_choices=_shipping_choices(data),
            coupon_codes=coupon_codes,
            buyer=request.user,
        ),
        "addresses": addresses,
        "address": address,
    }
    template = "orders/_checkout_body.html" if request.htmx else "orders/checkout.html"
    return render(request, template, context)


# --- Address book --------------------------------------------------------------------------
@login_required
@require_GET
def address_list(request: HttpRequest) -> HttpResponse:
    return render(request, "orders/addresses.html", {"addresses": selectors.address_list_for_user(user=request.user)})


def _address_next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return candidate
    return reverse("orders:addresses")


@login_required
@require_http_methods(["GET", "POST"])
def address_create(request: HttpRequest) -> HttpResponse:
    form = AddressForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        address = address_services.address_create(user=request.user, data=form.cleaned_data)
        messages.success(request, _("Address saved."))
        target = _address_next(request)
        if target.startswith(reverse("orders:checkout")):
            target = f"{reverse('orders:checkout')}?address={address.pk}"
        return redirect(target)
    return render(request, "orders/address_form.html", {"form": form, "next": _address_next(request)})


def _address_or_404(request: HttpRequest, address_id: int):
    try:
        return selectors.address_get_for_user(user=request.user, address_id=address_id)
    except NotFound:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def address_edit(request: HttpRequest, address_id: int) -> HttpResponse:
    address = _address_or_404(request, address_id)
    form = AddressForm(request.POST or None, instance=address)
    if request.method == "POST" and form.is_valid():
        address_services.address_update(address=address, data=form.cleaned_data)
        messages.success(request, _("Address saved."))
        return redirect(_address_next(request))
    return render(
        request, "orders/address_form.html", {"form": form, "address": address, "next": _address_next(request)}
    )


@login_required
@require_POST
def address_delete(request: HttpRequest, address_id: int) -> HttpResponse:
    address_services.address_delete(address=_address_or_404(request, address_id))
    messages.success(request, _("Address deleted."))
    return redirect("orders:addresses")


# --- Orders --------------------------------------------------------------------------------
@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.order_list_for_buyer(buyer=request.user), ORDERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "orders/order_list.html", {"page": page, "now": timezone.now()})


def _order_or_404(request: HttpRequest, number: str) -> Order:
    try:
        return selectors.order_get_for_buyer(buyer=request.user, number=number)
    except NotFound:
        raise Http404 from None


@login_required
@require_GET
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    order = _order_or_404(request, number)
    now = timezone.now()
    parts = list(order.vendor_orders.all())
    returns = return_selectors.returns_by_vendor_order(vendor_order_ids=[part.pk for part in parts])
    for part in parts:  # the prefetched instances the template iterates over
        part.return_requests = returns[part.pk]
        part.can_request_return = return_selectors.vendor_order_return_refusal(vendor_order=part, now=now) is None
    context = {
        "order": order,
        "can_pay": order.status == Order.Status.PENDING_PAYMENT and order.expires_at > now,
        "can_cancel": order.status == Order.Status.PENDING_PAYMENT,
        "payment_url": selectors.order_payment_url(order.number),
        "SHIPPED": VendorOrder.Status.SHIPPED,
    }
    return render(request, "orders/order_detail.html", context)


@login_required
@require_POST
def order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    order = _order_or_404(request, number)
    try:
        checkout_services.order_cancel_by_buyer(order=order, actor=request.user)
        messages.success(request, _("Your order was cancelled."))
    except DomainError as error:
        messages.error(request, str(error))
    return redirect("orders:detail", number=order.number)


@login_required
@require_POST
def order_confirm_receipt(request: HttpRequest, number: str, part: str) -> HttpResponse:
    try:
        vendor_order = selectors.vendor_order_get_for_buyer(buyer=request.user, number=part)
    except NotFound:
        raise Http404 from None
    if vendor_order.order.number != number:
        raise Http404
    try:
        vendor_order_confirm_receipt(vendor_order=vendor_order, actor=request.user)
        messages.success(request, _("Thank you: receipt confirmed."))
    except DomainError as error:
        messages.error(request, str(error))
    return redirect("orders:detail", number=number)


# --- Returns and refund requests -------------------------------------------------------------
RETURNS_PER_PAGE = 20


def _return_or_404(request: HttpRequest, number: str) -> ReturnRequest:
    try:
        return return_selectors.return_get_for_buyer(buyer=request.user, number=number)
    except NotFound:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def return_new(request: HttpRequest, number: str, part: str) -> HttpResponse:
    """The buyer's form for one shop order: units per line, kind, reason, description, photos."""
    try:
        vendor_order = selectors.vendor_order_get_for_buyer(buyer=request.user, number=part)
    except NotFound:
        raise Http404 from None
    if vendor_order.order.number != number:
        raise Http404
    lines = return_selectors.returnable_lines(vendor_order=vendor_order)
    is_post = request.method == "POST"
    form = ReturnRequestForm(request.POST if is_post else None, request.FILES if is_post else None, lines=lines)
    status = 200
    if is_post:
        if form.is_valid():
            try:
                return_request = return_services.return_request_open(
                    vendor_order=vendor_order,
                    actor=request.user,
                    kind=form.cleaned_data["kind"],
                    reason=form.cleaned_data["reason"],
                    description=form.cleaned_data["description"],
                    lines=form.selected_lines(),
                    shipping_refund=form.cleaned_data["shipping_refund"],
                    photos=form.cleaned_data["photos"],
                )
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Your request was sent to the shop."))
                return redirect("orders:return_detail", number=return_request.number)
        status = 400
    context = {
        "vendor_order": vendor_order,
        "form": form,
        "refusal": return_selectors.vendor_order_return_refusal(vendor_order=vendor_order, now=timezone.now()),
        "has_units": any(row.available for row in lines),
    }
    return render(request, "orders/return_form.html", context, status=status)


@login_required
@require_GET
def return_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(return_selectors.return_list_for_buyer(buyer=request.user), RETURNS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "orders/return_list.html", {"page": page})


@login_required
@require_GET
def return_photo(request: HttpRequest, number: str, photo_id: int) -> FileResponse:
    """A return's photo, for the buyer, the shop's order staff and the platform's admins only."""
    try:
        photo = return_selectors.return_photo_get(user=request.user, number=number, photo_id=photo_id)
    except NotFound:
        raise Http404 from None
    response = private_file_response(photo.image, filename=photo.image.name.rsplit("/", 1)[-1])
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_GET
def return_detail(request: HttpRequest, number: str) -> HttpResponse:
    return_request = _return_or_404(request, number)
    context = {
        "return_request": return_request,
        "reason": return_services.REASON_LABELS.get(return_request.reason, return_request.reason),
        "timeline": return_selectors.return_timeline_rows(return_request=return_request, show_actor=False),
        "can_cancel": return_selectors.return_can_be_cancelled(return_request=return_request),
        "can_ship_back": return_selectors.return_awaits_goods(return_request=return_request),
        "can_dispute": return_request.status == ReturnRequest.Status.REFUSED,
        "ship_form": ReturnShipBackForm(
            initial={
                "carrier": return_request.return_carrier,
                "tracking_number": return_request.return_tracking_number,
            }
        ),
        "dispute_form": ReturnNoteForm(),
    }
    return render(request, "orders/return_detail.html", context)


def _return_action(request: HttpRequest, number: str, action, success: str) -> HttpResponse:
    return_request = _return_or_404(request, number)
    try:
        action(return_request)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success)
    return redirect("orders:return_detail", number=return_request.number)


@login_required
@require_POST
def return_cancel(request: HttpRequest, number: str) -> HttpResponse:
    return _return_action(
        request,
        number,
        lambda return_request: return_services.return_request_cancel(return_request=return_request, actor=request.user),
        _("Your request was cancelled."),
    )


@login_required
@require_POST
def return_ship_back(request: HttpRequest, number: str) -> HttpResponse:
    form = ReturnShipBackForm(request.POST)

    def ship_back(return_request):
        if not form.is_valid():
            raise return_services.InvalidReturn(reason=_("Carrier and tracking number are required."))
        return_services.return_request_ship_back(return_request=return_request, actor=request.user, **form.cleaned_data)

    return _return_action(request, number, ship_back, _("Thank you: the shop can now follow the parcel."))


@login_required
@require_POST
def return_dispute(request: HttpRequest, number: str) -> HttpResponse:
    return _return_action(
        request,
        number,
        lambda return_request: return_services.return_request_dispute(
            return_request=return_request, actor=request.user, reason=request.POST.get("note", "")
        ),
        _("The platform will look at your request and decide."),
    )
