"""The vendor's own shops in the REST API (/api/v1/vendor/...)."""

from rest_framework import generics, permissions

from vendors import selectors
from vendors.dashboard import VendorStaffPermission
from vendors.models import ShippingTemplate
from vendors.serializers import MyShopOutput, ShippingTemplateOutput


class MyShopListView(generics.ListAPIView):
    """The shops the signed-in user staffs, with their role. Send a shop's id as the
    `X-Vendor` header to the other /api/v1/vendor/ endpoints to work in that shop."""

    serializer_class = MyShopOutput
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        return selectors.vendor_memberships_for_user(user=self.request.user).order_by("vendor__name", "vendor_id")


class ShippingTemplateListView(generics.ListAPIView):
    """The current shop's active shipping templates, the default first."""

    serializer_class = ShippingTemplateOutput
    permission_classes = [VendorStaffPermission]
    vendor_permission = "shipping"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no shop
            return ShippingTemplate.objects.none()
        return selectors.shipping_templates_for_vendor(vendor=self.request.vendor)
