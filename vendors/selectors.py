"""Reads for shops and their staff. Tenant access goes through vendor_get_for_actor."""

from django.db.models import QuerySet
from django.utils.translation import gettext

from marketplace.errors import NotFound
from marketplace.models import User
from vendors.models import Role, ShippingTemplate, Vendor, VendorApplication, VendorMember

# What each role may do in the dashboard and the vendor API ("earnings": the shop's money,
# statements and payouts; fulfilment staff do not see it).
ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.OWNER: {"orders", "products", "shipping", "coupons", "staff", "shop", "earnings"},
    Role.MANAGER: {"orders", "products", "shipping", "coupons", "earnings"},
    Role.STAFF: {"orders"},
}


def vendor_memberships_for_user(*, user: User) -> QuerySet[VendorMember]:
    if not user.is_authenticated:
        return VendorMember.objects.none()
    return VendorMember.objects.filter(user=user).select_related("vendor").order_by("vendor__name")


def vendor_member_get_for_actor(*, actor: User, vendor_id: int | None) -> VendorMember:
    """The actor's membership of the shop (or of their only/first shop when vendor_id is None).
    Raises NotFound for any shop the actor does not staff: outsiders cannot tell it exists."""
    memberships = vendor_memberships_for_user(user=actor)
    member = memberships.filter(vendor_id=vendor_id).first() if vendor_id else memberships.first()
    if member is None:
        raise NotFound(gettext("Shop not found."))
    return member


def role_allows(*, role: str, permission: str) -> bool:
    return permission in ROLE_PERMISSIONS.get(role, set())


def vendor_public_get(*, slug: str) -> Vendor:
    vendor = Vendor.objects.filter(slug=slug, status=Vendor.Status.ACTIVE).first()
    if vendor is None:
        raise NotFound(gettext("Shop not found."))
    return vendor


def vendor_member_get_for_vendor(*, vendor: Vendor, member_id: int) -> VendorMember:
    """A member of this shop only: another shop's member id is "not found"."""
    member = VendorMember.objects.filter(vendor=vendor, pk=member_id).select_related("user").first()
    if member is None:
        raise NotFound(gettext("Staff member not found."))
    return member


def vendor_member_list(*, vendor: Vendor) -> QuerySet[VendorMember]:
    return VendorMember.objects.filter(vendor=vendor).select_related("user").order_by("created_at", "id")


def vendor_slug_is_free(*, slug: str) -> bool:
    """Free when no shop uses it and no application waiting for review asks for it."""
    if Vendor.objects.filter(slug=slug).exists():
        return False
    return not VendorApplication.objects.filter(slug=slug, status=VendorApplication.Status.SUBMITTED).exists()


def vendor_application_latest(*, user: User) -> VendorApplication | None:
    if not user.is_authenticated:
        return None
    return (
        VendorApplication.objects.filter(applicant=user)
        .select_related("vendor")
        .prefetch_related("documents")
        .order_by("-created_at", "-id")
        .first()
    )


def shipping_templates_for_vendor(*, vendor: Vendor) -> QuerySet[ShippingTemplate]:
    """The shop's usable templates, the default first (what checkout offers)."""
    return ShippingTemplate.objects.filter(vendor=vendor, is_active=True).order_by("-is_default", "id")


def shipping_template_list(*, vendor: Vendor) -> QuerySet[ShippingTemplate]:
    """Every template of the shop, active ones first (for the dashboard)."""
    return ShippingTemplate.objects.filter(vendor=vendor).order_by("-is_active", "-is_default", "id")


def shipping_template_get_for_vendor(*, vendor: Vendor, template_id: int) -> ShippingTemplate:
    template = ShippingTemplate.objects.filter(vendor=vendor, pk=template_id).first()
    if template is None:
        raise NotFound(gettext("Shipping template not found."))
    return template
