"""Buyer payment API: start a payment for one's own order, read its status. Vendor money API: the
shop's balances, what it earns per order and line, statements and payouts."""

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.api import ERROR_RESPONSE
from marketplace.money import InvalidAmount, parse_amount
from payments import ledger, selectors, services
from payments.providers import enabled_provider_codes
from payments.serializers import (
    PaymentOutput,
    PaymentStartInput,
    PaymentStartOutput,
    PayoutOutput,
    PayoutRequestInput,
    StatementOutput,
    StatementQueryInput,
    VendorEarningsOutput,
    VendorOrderEarningsOutput,
)
from payments.services.payouts import payout_request
from vendors.dashboard import X_VENDOR_PARAMETER, VendorStaffPermission


class PaymentStartApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=PaymentStartInput,
        responses={201: PaymentStartOutput},
        summary="Start paying an order",
        description="Opens a payment for the order's total at the provider and returns the URL to send the "
        "buyer to. 400 when the order is paid, expired or cancelled; 404 for someone else's order.",
        tags=["payments"],
    )
    def post(self, request):
        data = PaymentStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        order = selectors.order_get_for_payer(actor=request.user, number=data.validated_data["order_number"])
        started = services.payment_start(
            order=order,
            actor=request.user,
            provider_code=data.validated_data.get("provider") or enabled_provider_codes()[0],
            site_url=request.build_absolute_uri("/"),
        )
        payment = started.payment
        payment.redirect_url = request.build_absolute_uri(started.redirect_url)
        return Response(PaymentStartOutput(payment).data, status=status.HTTP_201_CREATED)


class PaymentDetailApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: PaymentOutput}, summary="A payment of one of my orders", tags=["payments"])
    def get(self, request, reference: str):
        payment = selectors.payment_get_for_buyer(actor=request.user, reference=reference)
        return Response(PaymentOutput(payment).data)


# --- /api/v1/vendor/...: the shop's money (owners and managers: the "earnings" role permission) ---

VENDOR_ERRORS = {400: ERROR_RESPONSE, 403: ERROR_RESPONSE}
STATEMENT_PARAMETERS = [
    X_VENDOR_PARAMETER,
    OpenApiParameter("from", OpenApiTypes.DATE, required=True, description="First day (site time zone)."),
    OpenApiParameter("to", OpenApiTypes.DATE, required=True, description="Last day, included (at most 366 days)."),
    OpenApiParameter("currency", OpenApiTypes.STR, description="Default: the shop's currency."),
]


class _VendorMoneyApi(APIView):
    permission_classes = [VendorStaffPermission]
    vendor_permission = "earnings"

    def _statement(self, request) -> selectors.Statement:
        query = StatementQueryInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.vendor_statement(
            vendor=request.vendor,
            date_from=query.validated_data["from"],
            date_to=query.validated_data["to"],
            currency=query.validated_data.get("currency"),
        )


class VendorEarningsApi(_VendorMoneyApi):
    @extend_schema(
        summary="My shop's balances",
        description="Per currency: pending (inside the return window), available (settled; negative when "
        "refunds after settlement were clawed back) and in payout.",
        tags=["vendor"],
        parameters=[X_VENDOR_PARAMETER],
        responses={200: VendorEarningsOutput, **VENDOR_ERRORS},
    )
    def get(self, request):
        data = {
            "balances": selectors.vendor_balances(vendor=request.vendor),
            "return_window_days": settings.RETURN_WINDOW_DAYS,
        }
        return Response(VendorEarningsOutput(data).data)


class VendorOrderEarningsApi(_VendorMoneyApi):
    @extend_schema(
        summary="What my shop earns from one order",
        description="Per line and for the shipping: paid, the frozen commission rate, commission, referral, "
        "provider fee and the shop's share, what refunds reversed so far, and the settlement state.",
        tags=["vendor"],
        parameters=[X_VENDOR_PARAMETER],
        responses={200: VendorOrderEarningsOutput, **VENDOR_ERRORS, 404: ERROR_RESPONSE},
    )
    def get(self, request, number: str):
        earnings = selectors.vendor_order_earnings_get_for_vendor(vendor=request.vendor, number=number)
        return Response(VendorOrderEarningsOutput(earnings).data)


class VendorStatementApi(_VendorMoneyApi):
    @extend_schema(
        summary="My shop's statement for a period",
        description="Opening balances, every ledger movement of the shop's pending, available and payout "
        "accounts in the period (amounts owed to the shop are positive), and closing balances: "
        "closing = opening + movements. The same rows as CSV at /api/v1/vendor/statements.csv.",
        tags=["vendor"],
        parameters=STATEMENT_PARAMETERS,
        responses={200: StatementOutput, **VENDOR_ERRORS},
    )
    def get(self, request):
        return Response(StatementOutput(self._statement(request)).data)


class VendorStatementCsvApi(_VendorMoneyApi):
    @extend_schema(
        summary="My shop's statement for a period, as CSV",
        operation_id="v1_vendor_statements_csv_retrieve",
        description="One row per movement; UTF-8 with a byte order mark; amounts as plain decimals.",
        tags=["vendor"],
        parameters=STATEMENT_PARAMETERS,
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR), **VENDOR_ERRORS},
    )
    def get(self, request):
        statement = self._statement(request)
        response = HttpResponse(selectors.statement_csv(statement=statement), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{request.vendor.slug}-statement-{statement.currency}-'
            f'{statement.date_from:%Y%m%d}-{statement.date_to:%Y%m%d}.csv"'
        )
        return response


class VendorPayoutListApi(GenericAPIView):
    permission_classes = [VendorStaffPermission]
    vendor_permission = "earnings"
    serializer_class = PayoutOutput
    filter_backends: list = []

    @extend_schema(
        summary="My shop's payouts",
        description="Newest first, with their state: requested, sent, paid, or failed (re-credited, with the reason).",
        tags=["vendor"],
        parameters=[X_VENDOR_PARAMETER],
        responses={200: PayoutOutput(many=True), **VENDOR_ERRORS},
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.vendor_payout_list(vendor=request.vendor))
        return self.get_paginated_response(PayoutOutput(page, many=True).data)

    @extend_schema(
        summary="Request a payout",
        description="Sends `amount` (default: everything available) from the available balance to the shop's "
        "account at the payment provider. 409 payout_refused when nothing or less is available, or no "
        "account is registered.",
        tags=["vendor"],
        parameters=[X_VENDOR_PARAMETER],
        request=PayoutRequestInput,
        responses={201: PayoutOutput, **VENDOR_ERRORS, 409: ERROR_RESPONSE},
    )
    def post(self, request):
        payload = PayoutRequestInput(data=request.data)
        payload.is_valid(raise_exception=True)
        currency = payload.validated_data.get("currency") or request.vendor.currency
        amount = payload.validated_data.get("amount")
        if amount is not None:
            try:
                amount = parse_amount(amount, currency)
            except InvalidAmount:
                raise exceptions.ValidationError(
                    {"amount": gettext("Too many decimals for %(currency)s.") % {"currency": currency}}
                ) from None
        payout = payout_request(
            owner_type=ledger.VENDOR, owner_key=request.vendor.pk, currency=currency, actor=request.user, amount=amount
        )
        return Response(PayoutOutput(payout).data, status=status.HTTP_201_CREATED)
