"""The buyer's REST API: cart, address book, orders. Thin views over the same services and
selectors as the pages; domain errors become {"message", "code"} with their HTTP status."""

from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.referrals import referrals_in_session
from marketplace.api import PageNumberPagination
from orders import selectors
from orders.models import Order
from orders.serializers import (
    AddressSerializer,
    CartLineAddInput,
    CartLineUpdateInput,
    CartOutput,
    OrderDetailOutput,
    OrderOutput,
    OrderPlaceInput,
)
from orders.services import addresses as address_services
from orders.services import cart as cart_services
from orders.services import checkout as checkout_services


class BuyerAPIView(APIView):
    permission_classes = [IsAuthenticated]


def _cart_response(user, status_code: int = status.HTTP_200_OK) -> Response:
    summary = selectors.cart_summary(selectors.cart_find(user=user, session_key=None))
    return Response(CartOutput(summary).data, status=status_code)


class CartView(BuyerAPIView):
    @extend_schema(responses=CartOutput, summary="Your cart, grouped by shop")
    def get(self, request):
        return _cart_response(request.user)


class CartLinesView(BuyerAPIView):
    @extend_schema(request=CartLineAddInput, responses={201: CartOutput}, summary="Add a variant to the cart")
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        cart = cart_services.cart_get_or_create(user=request.user, session_key=None)
        cart_services.cart_add_line(
            cart=cart,
            variant_id=data.get("variant", ""),
            quantity=data.get("quantity", 1),
            referrals=referrals_in_session(getattr(request, "session", None)),
        )
        return _cart_response(request.user, status.HTTP_201_CREATED)


class CartLineView(BuyerAPIView):
    def _cart(self, request):
        return cart_services.cart_get_or_create(user=request.user, session_key=None)

    @extend_schema(request=CartLineUpdateInput, responses=CartOutput, summary="Change a line's quantity")
    def patch(self, request, line_id: int):
        data = request.data if isinstance(request.data, dict) else {}
        cart_services.cart_set_quantity(cart=self._cart(request), line_id=line_id, quantity=data.get("quantity"))
        return _cart_response(request.user)

    @extend_schema(responses={204: None}, summary="Remove a line")
    def delete(self, request, line_id: int):
        cart_services.cart_remove_line(cart=self._cart(request), line_id=line_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AddressesView(BuyerAPIView):
    @extend_schema(responses=AddressSerializer(many=True), summary="Your address book")
    def get(self, request):
        queryset = selectors.address_list_for_user(user=request.user)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(AddressSerializer(page, many=True).data)

    @extend_schema(request=AddressSerializer, responses={201: AddressSerializer})
    def post(self, request):
        data = AddressSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        address = address_services.address_create(user=request.user, data=data.validated_data)
        return Response(AddressSerializer(address).data, status=status.HTTP_201_CREATED)


class AddressView(BuyerAPIView):
    @extend_schema(responses=AddressSerializer)
    def get(self, request, address_id: int):
        return Response(
            AddressSerializer(selectors.address_get_for_user(user=request.user, address_id=address_id)).data
        )

    def _update(self, request, address_id: int, partial: bool):
        address = selectors.address_get_for_user(user=request.user, address_id=address_id)
        data = AddressSerializer(address, data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        address = address_services.address_update(address=address, data=data.validated_data)
        return Response(AddressSerializer(address).data)

    @extend_schema(request=AddressSerializer, responses=AddressSerializer)
    def put(self, request, address_id: int):
        return self._update(request, address_id, partial=False)

    @extend_schema(request=AddressSerializer, responses=AddressSerializer)
    def patch(self, request, address_id: int):
        return self._update(request, address_id, partial=True)

    @extend_schema(responses={204: None})
    def delete(self, request, address_id: int):
        address_services.address_delete(
            address=selectors.address_get_for_user(user=request.user, address_id=address_id)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrdersView(BuyerAPIView):
    @extend_schema(
        responses=OrderOutput(many=True),
        summary="Your orders, newest first",
        parameters=[
            OpenApiParameter("status", str, enum=list(Order.Status.values), description="Only orders in this state.")
        ],
    )
    def get(self, request):
        orders = selectors.order_list_for_buyer(buyer=request.user)
        status_filter = request.query_params.get("status")
        if status_filter:
            if status_filter not in Order.Status.values:
                raise ValidationError(
                    {"status": gettext("Choose one of %(values)s.") % {"values": ", ".join(Order.Status.values)}}
                )
            orders = orders.filter(status=status_filter)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(orders, request, view=self)
        return paginator.get_paginated_response(OrderOutput(page, many=True).data)

    @extend_schema(
        request=OrderPlaceInput,
        responses={201: OrderDetailOutput},
        summary="Place the cart's order",
        description="Reserves stock and creates one shop order per shop; pay at payment_url before "
        "expires_at. 409 with code out_of_stock when stock ran out (nothing is written). Coupons: 400 with "
        "code coupon_unknown, coupon_inactive, coupon_not_started, coupon_expired, coupon_currency, "
        "coupon_not_eligible, coupon_min_spend, coupon_conflict or coupon_too_many; 409 with "
        "coupon_limit_reached or coupon_buyer_limit_reached (nothing is written).",
    )
    def post(self, request):
        data = OrderPlaceInput(data=request.data)
        data.is_valid(raise_exception=True)
        address = selectors.address_get_for_user(user=request.user, address_id=data.validated_data["address"])
        cart = selectors.cart_find(user=request.user, session_key=None)
        if cart is None:
            raise checkout_services.CartEmpty()
        order = checkout_services.order_place(
            buyer=request.user,
            cart=cart,
            address=address,
            shipping_choices=data.validated_data.get("shipping"),
            coupon_codes=data.validated_data.get("coupon_codes"),
        )
        order = selectors.order_get_for_buyer(buyer=request.user, number=order.number)
        return Response(OrderDetailOutput(order).data, status=status.HTTP_201_CREATED)


class OrderView(BuyerAPIView):
    @extend_schema(responses=OrderDetailOutput, summary="One of your orders")
    def get(self, request, number: str):
        return Response(OrderDetailOutput(selectors.order_get_for_buyer(buyer=request.user, number=number)).data)


class OrderCancelView(BuyerAPIView):
    @extend_schema(request=None, responses=OrderDetailOutput, summary="Cancel your unpaid order")
    def post(self, request, number: str):
        order = selectors.order_get_for_buyer(buyer=request.user, number=number)
        checkout_services.order_cancel_by_buyer(order=order, actor=request.user)
        return Response(OrderDetailOutput(selectors.order_get_for_buyer(buyer=request.user, number=number)).data)
