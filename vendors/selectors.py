"""Reads for shops and their staff. Tenant access goes through vendor_get_for_actor."""

from django.db.models import QuerySet

from marketplace.errors import NotFound
from marketplace.models import User
from vendors.models import Role, Vendor, VendorMember

# What each role may do in the dashboard and the vendor API.
ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.OWNER: {"orders", "products", "shipping", "staff", "shop"},
    Role.MANAGER: {"orders", "products", "shipping"},
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
        raise NotFound("Shop not found.")
    return member


def role_allows(*, role: str, permission: str) -> bool:
    return permission in ROLE_PERMISSIONS.get(role, set())


def vendor_public_get(*, slug: str) -> Vendor:
    vendor = Vendor.objects.filter(slug=slug, status=Vendor.Status.ACTIVE).first()
    if vendor is None:
        raise NotFound("Shop not found.")
    return vendor
