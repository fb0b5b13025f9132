"""The vendor dashboard frame: which shop the signed-in user is working in, and the guard
every dashboard view and vendor API view uses. One place to get tenant isolation right."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, permissions

from marketplace.errors import NotFound
from vendors.selectors import role_allows, vendor_member_get_for_actor

SESSION_KEY = "current_vendor_id"
API_HEADER = "HTTP_X_VENDOR"  # X-Vendor: <shop id>, for users who staff several shops
# The same header, as the vendor API's OpenAPI schema documents it.
X_VENDOR_PARAMETER = OpenApiParameter(
    "X-Vendor",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    required=False,
    description="Shop id, for users who staff several shops (defaults to their first shop).",
)


def current_membership(request: HttpRequest):
    """The membership for the shop chosen in this session (the user's first shop by default)."""
    vendor_id = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    try:
        return vendor_member_get_for_actor(actor=request.user, vendor_id=vendor_id)
    except NotFound:
        if vendor_id:  # the chosen shop is gone or the user was removed: fall back to another
            request.session.pop(SESSION_KEY, None)
            return vendor_member_get_for_actor(actor=request.user, vendor_id=None)
        raise


def dashboard_view(permission: str) -> Callable:
    """Decorator: signed in, staff of the current shop, and the role allows `permission`.
    Sets request.vendor and request.vendor_member. Anyone else gets 404 (or the log-in page)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            try:
                member = current_membership(request)
            except NotFound:
                if permission == "overview":
                    return redirect("vendors:apply")
                raise Http404(gettext("You do not staff a shop.")) from None
            if permission != "overview" and not role_allows(role=member.role, permission=permission):
                raise Http404(gettext("Your role in this shop cannot open this page."))
            request.vendor = member.vendor
            request.vendor_member = member
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class VendorStaffPermission(permissions.BasePermission):
    """DRF permission for /api/v1/vendor/...: set `vendor_permission` on the view
    ("orders", "products", ...). Chooses the shop from the X-Vendor header (or the only one)."""

    message = gettext_lazy("Only this shop's staff can do this.")

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        raw = request.META.get(API_HEADER) or request.query_params.get("vendor")
        try:
            vendor_id = int(raw) if raw else None
        except ValueError:
            raise exceptions.ValidationError({"vendor": gettext("X-Vendor must be a shop id.")}) from None
        try:
            member = vendor_member_get_for_actor(actor=request.user, vendor_id=vendor_id)
        except NotFound:
            raise exceptions.PermissionDenied(gettext("You do not staff this shop.")) from None
        needed = getattr(view, "vendor_permission", "orders")
        if not role_allows(role=member.role, permission=needed):
            raise exceptions.PermissionDenied(gettext("Your role in this shop cannot do this."))
        request.vendor = member.vendor
        request.vendor_member = member
        return True
