"""The vendor orders API: the shop's own orders only (VendorStaffPermission picks the shop from
the X-Vendor header or the user's only shop; roles owner, manager and staff may all use it)."""

from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.api import ERROR_RESPONSE
from orders import dashboard_selectors
from orders.models import VendorOrder
from orders.services.fulfilment import vendor_order_ship
from orders.vendor_serializers import ShopOrderDetailOutput, ShopOrderOutput, ShopOrderShipInput
from vendors.dashboard import X_VENDOR_PARAMETER, VendorStaffPermission


class VendorOrderListApi(ListAPIView):
    permission_classes = [VendorStaffPermission]
    vendor_permission = "orders"
    serializer_class = ShopOrderOutput
    filter_backends: list = []

    @extend_schema(
        summary="My shop's orders",
        tags=["vendor"],
        parameters=[
            X_VENDOR_PARAMETER,
            OpenApiParameter(
                "status", OpenApiTypes.STR, enum=VendorOrder.Status.values, description="Only orders in this status."
            ),
        ],
        responses={200: ShopOrderOutput(many=True), 400: ERROR_RESPONSE, 403: ERROR_RESPONSE},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        status = self.request.query_params.get("status") or None
        if status is not None and status not in VendorOrder.Status.values:
            raise exceptions.ValidationError(
                {
                    "status": gettext("Unknown status; use one of %(values)s.")
                    % {"values": ", ".join(VendorOrder.Status.values)}
                }
            )
        return dashboard_selectors.vendor_order_list_for_vendor(vendor=self.request.vendor, status=status)


class VendorOrderDetailApi(APIView):
    permission_classes = [VendorStaffPermission]
    vendor_permission = "orders"

    @extend_schema(
        summary="One of my shop's orders",
        tags=["vendor"],
        parameters=[X_VENDOR_PARAMETER],
        responses={200: ShopOrderDetailOutput, 403: ERROR_RESPONSE, 404: ERROR_RESPONSE},
    )
    def get(self, request, number: str):
        vendor_order = dashboard_selectors.vendor_order_get_for_vendor(vendor=request.vendor, number=number)
        return Response(ShopOrderDetailOutput(vendor_order).data)


class VendorOrderShipApi(APIView):
    permission_classes = [VendorStaffPermission]
    vendor_permission = "orders"

    @extend_schema(
        summary="Mark one of my shop's orders shipped",
        description="paid -> shipped with the carrier and tracking number; the buyer is notified. "
        "409 when the order is not waiting to be shipped (e.g. shipped already).",
        tags=["vendor"],
        parameters=[X_VENDOR_PARAMETER],
        request=ShopOrderShipInput,
        responses={
            200: ShopOrderDetailOutput,
            400: ERROR_RESPONSE,
            403: ERROR_RESPONSE,
            404: ERROR_RESPONSE,
            409: ERROR_RESPONSE,
        },
    )
    def post(self, request, number: str):
        vendor_order = dashboard_selectors.vendor_order_get_for_vendor(vendor=request.vendor, number=number)
        data = ShopOrderShipInput(data=request.data)
        data.is_valid(raise_exception=True)
        vendor_order_ship(vendor_order=vendor_order, actor=request.user, **data.validated_data)
        vendor_order = dashboard_selectors.vendor_order_get_for_vendor(vendor=request.vendor, number=number)
        return Response(ShopOrderDetailOutput(vendor_order).data)
