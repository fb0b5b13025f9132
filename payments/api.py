"""Buyer payment API: start a payment for one's own order, read its status."""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from payments import selectors, services
from payments.providers import enabled_provider_codes
from payments.serializers import PaymentOutput, PaymentStartInput, PaymentStartOutput


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
