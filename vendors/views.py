"""Pages for people who sell: the shop application and the owner's and manager's dashboard
pages (staff, shipping templates, shop profile, switching shops). Thin: forms check shape,
services decide, errors come back as form errors or messages."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.errors import DomainError, InvalidUpload, NotFound
from vendors import selectors, services
from vendors.dashboard import SESSION_KEY, current_membership, dashboard_view
from vendors.errors import (
    BusinessLicenceNumberInvalid,
    DocumentCountInvalid,
    LicenceNumberInvalid,
    SlugTaken,
)
from vendors.forms import (
    ShippingTemplateForm,
    ShopProfileForm,
    ShopSwitchForm,
    StaffAddForm,
    StaffRoleForm,
    VendorApplicationForm,
)
from vendors.models import VendorApplication

_APPLICATION_ERROR_FIELDS = {
    SlugTaken: "slug",
    LicenceNumberInvalid: "licence_number",
    BusinessLicenceNumberInvalid: "licence_number",
    DocumentCountInvalid: "documents",
    InvalidUpload: "documents",
}


@login_required
def apply(request: HttpRequest) -> HttpResponse:
    latest = selectors.vendor_application_latest(user=request.user)
    is_open = latest is not None and latest.status == VendorApplication.Status.SUBMITTED
    form = None
    if not is_open:
        initial = {"contact_email": request.user.email, "contact_name": request.user.display_name}
        form = VendorApplicationForm(request.POST or None, request.FILES or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.vendor_application_submit(
                    applicant=request.user,
                    shop_name=data["shop_name"],
                    slug=data["slug"],
                    legal_kind=data["legal_kind"],
                    shop_type=data["shop_type"],
                    contact_name=data["contact_name"],
                    contact_email=data["contact_email"],
                    contact_phone=data["contact_phone"],
                    licence_number=data["licence_number"],
                    description=data["description"],
                    documents=data["documents"],
                )
            except DomainError as exc:
                form.add_error(_APPLICATION_ERROR_FIELDS.get(type(exc)), str(exc))
            else:
                messages.success(request, _("Thank you: your application was sent. We will tell you the decision."))
                return redirect("vendors:apply")
    elif request.method == "POST":
        messages.error(request, _("You already have a shop application waiting for review."))
    status = 400 if form is not None and form.errors else 200
    return render(request, "vendors/apply.html", {"form": form, "application": latest}, status=status)


@login_required
def switch(request: HttpRequest) -> HttpResponse:
    """Lists the user's shops; POST chooses the one the dashboard works on."""
    memberships = selectors.vendor_memberships_for_user(user=request.user)
    if request.method == "POST":
        form = ShopSwitchForm(request.POST)
        if not form.is_valid():
            raise Http404(_("Shop not found."))
        try:
            member = selectors.vendor_member_get_for_actor(actor=request.user, vendor_id=form.cleaned_data["vendor"])
        except NotFound:
            raise Http404(_("Shop not found.")) from None
        request.session[SESSION_KEY] = member.vendor_id
        messages.success(request, _("You are now working in %(shop)s.") % {"shop": member.vendor.name})
        return redirect("/dashboard/")
    try:
        current = current_membership(request)
    except NotFound:
        current = None
    return render(
        request,
        "vendors/switch.html",
        {"memberships": memberships, "current_vendor_id": current.vendor_id if current else None},
    )


# --- Staff ----------------------------------------------------------------------------------


@dashboard_view("staff")
def staff(request: HttpRequest) -> HttpResponse:
    form = StaffAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.vendor_member_add(
                vendor=request.vendor,
                actor=request.user,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except DomainError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(request, _("%(user)s joined the staff.") % {"user": member.user.email})
            return redirect("vendors:staff")
    members = selectors.vendor_member_list(vendor=request.vendor)
    status = 400 if form.errors else 200
    return render(
        request,
        "vendors/staff.html",
        {"members": members, "form": form, "role_form": StaffRoleForm()},
        status=status,
    )


def _member_or_404(request: HttpRequest, member_id: int):
    try:
        return selectors.vendor_member_get_for_vendor(vendor=request.vendor, member_id=member_id)
    except NotFound:
        raise Http404(_("Staff member not found.")) from None


@dashboard_view("staff")
@require_POST
def staff_role(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _member_or_404(request, member_id)
    form = StaffRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a role from the list."))
        return redirect("vendors:staff")
    try:
        services.vendor_member_change_role(member=member, actor=request.user, role=form.cleaned_data["role"])
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Role changed for %(user)s.") % {"user": member.user.email})
    return redirect("vendors:staff")


@dashboard_view("staff")
@require_POST
def staff_remove(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _member_or_404(request, member_id)
    try:
        services.vendor_member_remove(member=member, actor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("vendors:staff")
    messages.success(request, _("%(user)s was removed from the staff.") % {"user": member.user.email})
    if member.user_id == request.user.pk:
        request.session.pop(SESSION_KEY, None)
        return redirect("vendors:switch")
    return redirect("vendors:staff")


# --- Shipping templates ---------------------------------------------------------------------


@dashboard_view("shipping")
def shipping(request: HttpRequest) -> HttpResponse:
    templates = selectors.shipping_template_list(vendor=request.vendor)
    return render(request, "vendors/shipping_list.html", {"templates": templates})


def _template_or_404(request: HttpRequest, template_id: int):
    try:
        return selectors.shipping_template_get_for_vendor(vendor=request.vendor, template_id=template_id)
    except NotFound:
        raise Http404(_("Shipping template not found.")) from None


def _template_values(form: ShippingTemplateForm) -> dict:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "base_fee": data["base_fee"],
        "per_item_fee": data["per_item_fee"],
        "free_over": data["free_over"],
        "excluded_regions": form.regions(),
        "is_default": data["is_default"],
    }


@dashboard_view("shipping")
def shipping_create(request: HttpRequest) -> HttpResponse:
    form = ShippingTemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.shipping_template_create(vendor=request.vendor, actor=request.user, **_template_values(form))
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Shipping template saved."))
            return redirect("vendors:shipping")
    status = 400 if form.errors else 200
    return render(request, "vendors/shipping_form.html", {"form": form, "template": None}, status=status)


@dashboard_view("shipping")
def shipping_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    template = _template_or_404(request, template_id)
    form = ShippingTemplateForm(request.POST or None, initial=ShippingTemplateForm.initial_for(template))
    if request.method == "POST" and form.is_valid():
        try:
            services.shipping_template_update(template=template, actor=request.user, **_template_values(form))
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Shipping template saved."))
            return redirect("vendors:shipping")
    status = 400 if form.errors else 200
    return render(request, "vendors/shipping_form.html", {"form": form, "template": template}, status=status)


@dashboard_view("shipping")
@require_POST
def shipping_deactivate(request: HttpRequest, template_id: int) -> HttpResponse:
    template = services.shipping_template_deactivate(
        template=_template_or_404(request, template_id), actor=request.user
    )
    messages.success(request, _("“%(name)s” is no longer offered at checkout.") % {"name": template.name})
    return redirect("vendors:shipping")


@dashboard_view("shipping")
@require_POST
def shipping_activate(request: HttpRequest, template_id: int) -> HttpResponse:
    template = services.shipping_template_activate(template=_template_or_404(request, template_id), actor=request.user)
    messages.success(request, _("“%(name)s” is offered at checkout again.") % {"name": template.name})
    return redirect("vendors:shipping")


# --- Shop profile ---------------------------------------------------------------------------


@dashboard_view("shop")
def shop_profile(request: HttpRequest) -> HttpResponse:
    vendor = request.vendor
    initial = {
        "name_en": vendor.name_en or vendor.name,
        "name_zh_hans": vendor.name_zh_hans or "",
        "description_en": vendor.description_en or "",
        "description_zh_hans": vendor.description_zh_hans or "",
        "contact_email": vendor.contact_email,
        "contact_phone": vendor.contact_phone,
    }
    form = ShopProfileForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.vendor_profile_update(
                vendor=vendor,
                actor=request.user,
                name_en=data["name_en"],
                name_zh_hans=data["name_zh_hans"],
                description_en=data["description_en"],
                description_zh_hans=data["description_zh_hans"],
                contact_email=data["contact_email"],
                contact_phone=data["contact_phone"],
                banner=data["banner"],
                logo=data["logo"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Shop profile saved."))
            return redirect("vendors:shop_profile")
    status = 400 if form.errors else 200
    return render(request, "vendors/shop_profile.html", {"form": form, "vendor": vendor}, status=status)
