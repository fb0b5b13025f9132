"""Output and input shapes of the vendor orders API (/api/v1/vendor/orders/)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders import dashboard_selectors
from orders.models import OrderEvent, OrderLine, VendorOrder
from orders.services.fulfilment import CARRIER_MAX_LENGTH, TRACKING_MAX_LENGTH


def _money() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=True, read_only=True)


class ShopOrderLineOutput(serializers.ModelSerializer):
    product_id = serializers.IntegerField(source="product_id_snapshot")
    unit_price = _money()
    line_total = _money()

    class Meta:
        model = OrderLine
        fields = ["product_id", "product_title", "variant_name", "sku", "unit_price", "quantity", "line_total"]


class ShopOrderOutput(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number")
    items_total = _money()
    shipping_total = _money()
    total = _money()
    units = serializers.SerializerMethodField()
    lines = ShopOrderLineOutput(many=True)

    class Meta:
        model = VendorOrder
        fields = [
            "number", "order_number", "status", "currency", "items_total", "shipping_total", "total", "units",
            "shipping_method", "carrier", "tracking_number",
            "created_at", "paid_at", "shipped_at", "delivered_at", "completed_at", "cancelled_at", "lines",
        ]  # fmt: skip

    def get_units(self, vendor_order: VendorOrder) -> int:
        return sum(line.quantity for line in vendor_order.lines.all())


class ShopOrderAddressOutput(serializers.Serializer):
    recipient = serializers.CharField()
    phone = serializers.CharField()
    country = serializers.CharField()
    region = serializers.CharField()
    city = serializers.CharField()
    district = serializers.CharField(required=False)
    street = serializers.CharField()
    postal_code = serializers.CharField(required=False)


class ShopOrderEventOutput(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = ["type", "created_at"]


class ShopOrderDetailOutput(ShopOrderOutput):
    buyer_name = serializers.CharField(source="order.buyer.public_name")
    shipping_address = serializers.SerializerMethodField(help_text="Shown once the buyer has paid.")
    events = serializers.SerializerMethodField()

    class Meta(ShopOrderOutput.Meta):
        fields = [*ShopOrderOutput.Meta.fields, "buyer_name", "shipping_address", "events"]

    @extend_schema_field(ShopOrderAddressOutput(allow_null=True))
    def get_shipping_address(self, vendor_order: VendorOrder) -> dict | None:
        return dashboard_selectors.vendor_order_shipping_address(vendor_order=vendor_order)

    @extend_schema_field(ShopOrderEventOutput(many=True))
    def get_events(self, vendor_order: VendorOrder) -> list[dict]:
        events = dashboard_selectors.vendor_order_timeline(vendor_order=vendor_order)
        return ShopOrderEventOutput(events, many=True).data


class ShopOrderShipInput(serializers.Serializer):
    carrier = serializers.CharField(max_length=CARRIER_MAX_LENGTH)
    tracking_number = serializers.CharField(max_length=TRACKING_MAX_LENGTH)
