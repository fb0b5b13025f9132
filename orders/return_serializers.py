"""Input and output shapes of the returns API, for the buyer (/api/v1/returns/) and the shop
(/api/v1/vendor/orders/returns/). Inputs document the fields; the services validate the values."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders import return_selectors
from orders.models import ReturnLine, ReturnRequest
from orders.services.returns import (
    CARRIER_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    MAX_PHOTOS,
    NOTE_MAX_LENGTH,
    REASONS,
    TRACKING_MAX_LENGTH,
)

MONEY = {"max_digits": 14, "decimal_places": 2, "read_only": True}


class ReturnLineOutput(serializers.ModelSerializer):
    order_line = serializers.IntegerField(source="order_line_id")
    product_title = serializers.CharField(source="order_line.product_title")
    variant_name = serializers.CharField(source="order_line.variant_name")
    sku = serializers.CharField(source="order_line.sku")
    amount = serializers.DecimalField(**MONEY)

    class Meta:
        model = ReturnLine
        fields = ["order_line", "product_title", "variant_name", "sku", "quantity", "amount"]


class ReturnEventOutput(serializers.Serializer):
    type = serializers.CharField()
    label = serializers.CharField()
    detail = serializers.CharField()
    created_at = serializers.DateTimeField(source="at")


class ReturnOutput(serializers.ModelSerializer):
    order_number = serializers.CharField(source="vendor_order.order.number")
    vendor_order = serializers.CharField(source="vendor_order.number")
    shop = serializers.CharField(source="vendor_order.vendor.name")
    buyer_name = serializers.CharField(source="buyer.public_name")
    shipping_refund = serializers.DecimalField(**MONEY)
    amount = serializers.DecimalField(**MONEY)
    lines = ReturnLineOutput(many=True)
    photos = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    class Meta:
        model = ReturnRequest
        fields = [
            "number", "order_number", "vendor_order", "shop", "buyer_name", "kind", "status", "reason",
            "description", "shipping_refund", "amount", "currency", "vendor_note", "admin_note",
            "return_carrier", "return_tracking_number", "created_at", "decided_at", "goods_received_at",
            "refund_approved_at", "closed_at", "lines", "photos", "events",
        ]  # fmt: skip

    def get_photos(self, return_request: ReturnRequest) -> list[str]:
        return [photo.url for photo in return_request.photos.all()]

    @extend_schema_field(ReturnEventOutput(many=True))
    def get_events(self, return_request: ReturnRequest) -> list[dict]:
        if not self.context.get("with_events"):
            return []
        rows = return_selectors.return_timeline_rows(return_request=return_request, show_actor=False)
        return ReturnEventOutput(rows, many=True).data


class ReturnLineInput(serializers.Serializer):
    line = serializers.IntegerField(help_text="Order line id (see the order's lines).")
    quantity = serializers.IntegerField(min_value=1)


class ReturnOpenInput(serializers.Serializer):
    vendor_order = serializers.CharField(max_length=40, help_text="The shop order's number.")
    kind = serializers.ChoiceField(choices=ReturnRequest.Kind.choices)
    reason = serializers.ChoiceField(choices=REASONS)
    description = serializers.CharField(max_length=DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True, default="")
    lines = ReturnLineInput(many=True, allow_empty=False)
    shipping_refund = serializers.BooleanField(
        default=False, help_text="Only with the last of the items, or for a refund before the shop shipped."
    )
    photos = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        max_length=MAX_PHOTOS,
        help_text="Images, in a multipart request (then lines as lines[0]line, lines[0]quantity...).",
    )


class ReturnShipBackInput(serializers.Serializer):
    carrier = serializers.CharField(max_length=CARRIER_MAX_LENGTH)
    tracking_number = serializers.CharField(max_length=TRACKING_MAX_LENGTH)


class ReturnDisputeInput(serializers.Serializer):
    reason = serializers.CharField(max_length=NOTE_MAX_LENGTH)


class ReturnRefuseInput(serializers.Serializer):
    note = serializers.CharField(max_length=NOTE_MAX_LENGTH)
