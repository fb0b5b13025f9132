"""The returns API. Buyers: /api/v1/returns/ (their own requests). Shops:
/api/v1/vendor/orders/returns/ (VendorStaffPermission picks the shop from the X-Vendor header or
the user's only shop; every role that handles orders may answer). Thin views over the same
services and selectors as the pages; domain errors become {"message", "code"} with their status."""

from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.api import ERROR_RESPONSE
from marketplace.errors import NotFound
from orders import return_selectors, selectors
from orders.models import OrderLine, ReturnRequest
from orders.return_serializers import (
    ReturnDisputeInput,
    ReturnOpenInput,
    ReturnOutput,
    ReturnRefuseInput,
    ReturnShipBackInput,
)
from orders.services import returns as services
from vendors.dashboard import X_VENDOR_PARAMETER, VendorStaffPermission

STATUS_PARAMETER = OpenApiParameter(
    "status", OpenApiTypes.STR, enum=ReturnRequest.Status.values, description="Only requests in this status."
)
ERRORS = {400: ERROR_RESPONSE, 403: ERROR_RESPONSE, 404: ERROR_RESPONSE, 409: ERROR_RESPONSE}


def _status_filter(request) -> str | None:
    value = request.query_params.get("status") or None
    if value is not None and value not in ReturnRequest.Status.values:
        raise exceptions.ValidationError(
            {
                "status": gettext("Unknown status; use one of %(values)s.")
                % {"values": ", ".join(ReturnRequest.Status.values)}
            }
        )
    return value


def _detail(return_request: ReturnRequest) -> dict:
    return ReturnOutput(return_request, context={"with_events": True}).data


# --- The buyer ------------------------------------------------------------------------------


class BuyerReturnsApi(ListAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = ReturnOutput
    filter_backends: list = []
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(summary="My return and refund requests", tags=["returns"], parameters=[STATUS_PARAMETER])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        queryset = return_selectors.return_list_for_buyer(buyer=self.request.user)
        status_value = _status_filter(self.request)
        return queryset.filter(status=status_value) if status_value else queryset

    @extend_schema(
        summary="Ask for a return or refund",
        description="For some units of some lines of one of my shop orders. 409 with code "
        "return_not_allowed (unpaid, settled, outside the return window, goods not shipped for a "
        "return) or return_quantity_exceeded (more units than remain to return).",
        tags=["returns"],
        request={"application/json": ReturnOpenInput, "multipart/form-data": ReturnOpenInput},
        responses={201: ReturnOutput, **ERRORS},
    )
    def post(self, request):
        data = ReturnOpenInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        vendor_order = selectors.vendor_order_get_for_buyer(buyer=request.user, number=values["vendor_order"])
        order_lines = {line.pk: line for line in OrderLine.objects.filter(vendor_order=vendor_order)}
        lines = []
        for item in values["lines"]:
            if item["line"] not in order_lines:
                raise NotFound(gettext("Order line not found."))
            lines.append((order_lines[item["line"]], item["quantity"]))
        return_request = services.return_request_open(
            vendor_order=vendor_order,
            actor=request.user,
            kind=values["kind"],
            reason=values["reason"],
            description=values["description"],
            lines=lines,
            shipping_refund=values["shipping_refund"],
            photos=values["photos"],
        )
        return_request = return_selectors.return_get_for_buyer(buyer=request.user, number=return_request.number)
        return Response(_detail(return_request), status=status.HTTP_201_CREATED)


class BuyerReturnApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="One of my return requests", tags=["returns"], responses={200: ReturnOutput, 404: ERROR_RESPONSE}
    )
    def get(self, request, number: str):
        return Response(_detail(return_selectors.return_get_for_buyer(buyer=request.user, number=number)))


class _ReturnAction(APIView):
    """POST an action on one return request the actor may see; answers with the request as it is now."""

    input_serializer = None

    def fetch(self, request, number: str) -> ReturnRequest:
        raise NotImplementedError

    def act(self, request, return_request: ReturnRequest, data: dict) -> None:
        raise NotImplementedError

    def post(self, request, number: str):
        return_request = self.fetch(request, number)
        data = {}
        if self.input_serializer is not None:
            serializer = self.input_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        self.act(request, return_request, data)
        return Response(_detail(self.fetch(request, number)))


class _BuyerReturnAction(_ReturnAction):
    permission_classes = [IsAuthenticated]

    def fetch(self, request, number: str) -> ReturnRequest:
        return return_selectors.return_get_for_buyer(buyer=request.user, number=number)


class BuyerReturnCancelApi(_BuyerReturnAction):
    @extend_schema(
        summary="Cancel my return request", tags=["returns"], request=None, responses={200: ReturnOutput, **ERRORS}
    )
    def post(self, request, number: str):
        return super().post(request, number)

    def act(self, request, return_request, data):
        services.return_request_cancel(return_request=return_request, actor=request.user)


class BuyerReturnShipBackApi(_BuyerReturnAction):
    input_serializer = ReturnShipBackInput

    @extend_schema(
        summary="Tell the shop how the goods were sent back",
        tags=["returns"],
        request=ReturnShipBackInput,
        responses={200: ReturnOutput, **ERRORS},
    )
    def post(self, request, number: str):
        return super().post(request, number)

    def act(self, request, return_request, data):
        services.return_request_ship_back(return_request=return_request, actor=request.user, **data)


class BuyerReturnDisputeApi(_BuyerReturnAction):
    input_serializer = ReturnDisputeInput

    @extend_schema(
        summary="Dispute the shop's refusal: the platform decides",
        tags=["returns"],
        request=ReturnDisputeInput,
        responses={200: ReturnOutput, **ERRORS},
    )
    def post(self, request, number: str):
        return super().post(request, number)

    def act(self, request, return_request, data):
        services.return_request_dispute(return_request=return_request, actor=request.user, reason=data["reason"])


# --- The shop -------------------------------------------------------------------------------


class VendorReturnListApi(ListAPIView):
    permission_classes = [VendorStaffPermission]
    vendor_permission = "orders"
    serializer_class = ReturnOutput
    filter_backends: list = []

    @extend_schema(
        summary="My shop's return and refund requests",
        tags=["vendor"],
        parameters=[X_VENDOR_PARAMETER, STATUS_PARAMETER],
        responses={200: ReturnOutput(many=True), 400: ERROR_RESPONSE, 403: ERROR_RESPONSE},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return return_selectors.return_list_for_vendor(vendor=self.request.vendor, status=_status_filter(self.request))


class VendorReturnDetailApi(APIView):
    permission_classes = [VendorStaffPermission]
    vendor_permission = "orders"

    @extend_schema(
        summary="One of my shop's return requests",
        tags=["vendor"],
        parameters=[X_VENDOR_PARAMETER],
        responses={200: ReturnOutput, 403: ERROR_RESPONSE, 404: ERROR_RESPONSE},
    )
    def get(self, request, number: str):
        return Response(_detail(return_selectors.return_get_for_vendor(vendor=request.vendor, number=number)))


class _VendorReturnAction(_ReturnAction):
    permission_classes = [VendorStaffPermission]
    vendor_permission = "orders"

    def fetch(self, request, number: str) -> ReturnRequest:
        return return_selectors.return_get_for_vendor(vendor=request.vendor, number=number)


class VendorReturnAcceptApi(_VendorReturnAction):
    @extend_schema(
        summary="Accept a return request",
        description="A refund only is approved at once; a return waits for the goods (goods-received). "
        "409 when the request is no longer waiting for an answer.",
        tags=["vendor"],
        parameters=[X_VENDOR_PARAMETER],
        request=None,
        responses={200: ReturnOutput, **ERRORS},
    )
    def post(self, request, number: str):
        return super().post(request, number)

    def act(self, request, return_request, data):
        services.return_request_accept(return_request=return_request, actor=request.user)


class VendorReturnRefuseApi(_VendorReturnAction):
    input_serializer = ReturnRefuseInput

    @extend_schema(
        summary="Refuse a return request, saying why",
        tags=["vendor"],
        parameters=[X_VENDOR_PARAMETER],
        request=ReturnRefuseInput,
        responses={200: ReturnOutput, **ERRORS},
    )
    def post(self, request, number: str):
        return super().post(request, number)

    def act(self, request, return_request, data):
        services.return_request_refuse(return_request=return_request, actor=request.user, note=data["note"])


class VendorReturnGoodsReceivedApi(_VendorReturnAction):
    @extend_schema(
        summary="Confirm the returned goods arrived",
        description="The units go back into stock and the refund is approved, once; 409 on a repeat.",
        tags=["vendor"],
        parameters=[X_VENDOR_PARAMETER],
        request=None,
        responses={200: ReturnOutput, **ERRORS},
    )
    def post(self, request, number: str):
        return super().post(request, number)

    def act(self, request, return_request, data):
        services.return_request_goods_received(return_request=return_request, actor=request.user)
