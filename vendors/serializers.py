from rest_framework import serializers

from vendors.models import ShippingTemplate, VendorMember
from vendors.selectors import ROLE_PERMISSIONS


class MyShopOutput(serializers.ModelSerializer):
    """A shop the signed-in user staffs, with their role and what it lets them do."""

    id = serializers.IntegerField(source="vendor.id")
    name = serializers.CharField(source="vendor.name")
    slug = serializers.CharField(source="vendor.slug")
    status = serializers.CharField(source="vendor.status")
    shop_type = serializers.CharField(source="vendor.shop_type")
    currency = serializers.CharField(source="vendor.currency")
    url = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()

    class Meta:
        model = VendorMember
        fields = ["id", "name", "slug", "status", "shop_type", "currency", "url", "role", "permissions"]

    def get_url(self, member: VendorMember) -> str:
        return f"/s/{member.vendor.slug}/"

    def get_permissions(self, member: VendorMember) -> list[str]:
        return sorted(ROLE_PERMISSIONS.get(member.role, set()))


class ShippingTemplateOutput(serializers.ModelSerializer):
    class Meta:
        model = ShippingTemplate
        fields = ["id", "name", "base_fee", "per_item_fee", "free_over", "excluded_regions", "is_default", "is_active"]
