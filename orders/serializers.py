"""Input and output shapes of the buyer API. Inputs document the fields; the services validate
the values themselves (so a bad quantity gets the same message on a page and in the API)."""

from django.utils.translation import gettext
from rest_framework import serializers

from orders.models import Address, Order, OrderLine, VendorOrder
from orders.selectors import order_payment_url

MONEY = {"max_digits": 14, "decimal_places": 2, "read_only": True}


class ShopOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    slug = serializers.CharField()


# --- Cart ----------------------------------------------------------------------------------
class CartLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    variant = serializers.IntegerField(source="variant.pk")
    sku = serializers.CharField(source="variant.sku")
    variant_name = serializers.CharField(source="variant.name")
    product = serializers.SerializerMethodField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(**MONEY)
    price_when_added = serializers.DecimalField(**MONEY)
    price_changed = serializers.BooleanField()
    line_total = serializers.DecimalField(**MONEY)
    available = serializers.BooleanField(source="is_orderable")
    stock = serializers.IntegerField()
    enough_stock = serializers.BooleanField(source="has_enough_stock")

    def get_product(self, line) -> dict:
        return {"id": line.product.pk, "title": line.product.title, "slug": line.product.slug}


class CartShopOutput(serializers.Serializer):
    vendor = ShopOutput()
    subtotal = serializers.DecimalField(**MONEY)
    item_count = serializers.IntegerField()
    lines = CartLineOutput(many=True)


class CartOutput(serializers.Serializer):
    currency = serializers.CharField()
    items_total = serializers.DecimalField(**MONEY)
    item_count = serializers.IntegerField()
    has_problems = serializers.BooleanField()
    shops = CartShopOutput(many=True, source="groups")


class CartLineAddInput(serializers.Serializer):
    variant = serializers.IntegerField(help_text="Variant (SKU) id.")
    quantity = serializers.IntegerField(default=1, help_text="1..CART_MAX_LINE_QUANTITY, at most the stock.")


class CartLineUpdateInput(serializers.Serializer):
    quantity = serializers.IntegerField()


# --- Addresses -----------------------------------------------------------------------------
class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = [
            "id",
            "recipient",
            "phone",
            "country",
            "region",
            "city",
            "district",
            "street",
            "postal_code",
            "is_default",
        ]
        read_only_fields = ["id"]

    def validate_country(self, value: str) -> str:
        value = value.strip().upper()
        if len(value) != 2 or not value.isascii() or not value.isalpha():
            raise serializers.ValidationError(gettext("Use the two-letter country code, e.g. CN."))
        return value


# --- Orders --------------------------------------------------------------------------------
class OrderPlaceInput(serializers.Serializer):
    address = serializers.IntegerField(help_text="Id of one of your addresses.")
    shipping = serializers.DictField(
        child=serializers.IntegerField(),
        required=False,
        help_text='Shipping template per shop: {"<vendor_id>": template_id}; default: each shop\'s default.',
    )
    coupon_codes = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=10,
        help_text='Coupon codes, and claimed coupons as "claim:<coupon id>": at most one per shop and one '
        "platform coupon.",
    )


class OrderLineOutput(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = [
            "id",
            "variant",
            "product_id_snapshot",
            "product_title",
            "variant_name",
            "sku",
            "unit_price",
            "quantity",
            "line_total",
            "shop_discount",
            "platform_discount",
        ]


class VendorOrderOutput(serializers.ModelSerializer):
    vendor = ShopOutput()

    class Meta:
        model = VendorOrder
        fields = [
            "number",
            "vendor",
            "status",
            "currency",
            "items_total",
            "shipping_total",
            "shop_discount",
            "platform_discount",
            "total",
            "shipping_method",
            "carrier",
            "tracking_number",
            "paid_at",
            "shipped_at",
            "delivered_at",
            "completed_at",
            "cancelled_at",
        ]


class VendorOrderDetailOutput(VendorOrderOutput):
    lines = OrderLineOutput(many=True)

    class Meta(VendorOrderOutput.Meta):
        fields = [*VendorOrderOutput.Meta.fields, "lines"]


class OrderOutput(serializers.ModelSerializer):
    vendor_orders = VendorOrderOutput(many=True)
    payment_url = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "number",
            "status",
            "currency",
            "items_total",
            "shipping_total",
            "discount_total",
            "grand_total",
            "expires_at",
            "paid_at",
            "cancelled_at",
            "created_at",
            "payment_url",
            "vendor_orders",
        ]

    def get_payment_url(self, order) -> str | None:
        if order.status != Order.Status.PENDING_PAYMENT:
            return None
        return order_payment_url(order.number)


class OrderDetailOutput(OrderOutput):
    vendor_orders = VendorOrderDetailOutput(many=True)
    shipping_address = serializers.JSONField()

    class Meta(OrderOutput.Meta):
        fields = [*OrderOutput.Meta.fields, "shipping_address"]
