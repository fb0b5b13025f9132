from decimal import Decimal

from rest_framework import serializers

from marketplace.money import CURRENCY_CHOICES
from payments.models import Payment, Payout


class PaymentStartInput(serializers.Serializer):
    order_number = serializers.CharField(max_length=32)
    provider = serializers.CharField(max_length=30, required=False, help_text="Defaults to the first enabled provider.")


class PaymentOutput(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=True)

    class Meta:
        model = Payment
        fields = [
            "reference",
            "order_number",
            "provider",
            "status",
            "amount",
            "currency",
            "needs_refund",
            "created_at",
            "captured_at",
        ]


class PaymentStartOutput(PaymentOutput):
    redirect_url = serializers.CharField(help_text="Send the buyer's browser here to pay.")

    class Meta(PaymentOutput.Meta):
        fields = [*PaymentOutput.Meta.fields, "redirect_url"]


# --- The shop's money: /api/v1/vendor/earnings/, statements/, payouts/ ----------------------------

MONEY = {"max_digits": 14, "decimal_places": 2, "coerce_to_string": True}
RATE = {"max_digits": 5, "decimal_places": 4, "coerce_to_string": True}


class ShopBalancesOutput(serializers.Serializer):
    currency = serializers.CharField()
    pending = serializers.DecimalField(**MONEY, help_text="Shares of orders still inside their return window.")
    available = serializers.DecimalField(
        **MONEY,
        help_text="Settled and not yet paid out. Negative after refunds clawed back from settled orders: "
        "what the shop owes, netted against its next settlements.",
    )
    in_payout = serializers.DecimalField(**MONEY, help_text="Payouts sent, not yet confirmed by the provider.")
    owed_by_shop = serializers.DecimalField(
        **MONEY, help_text="The negative part of `available`, as a positive amount."
    )
    withdrawable = serializers.DecimalField(**MONEY, help_text="What a payout request may ask for at most.")


class VendorEarningsOutput(serializers.Serializer):
    balances = ShopBalancesOutput(many=True)
    return_window_days = serializers.IntegerField()


class SplitPartsOutput(serializers.Serializer):
    paid = serializers.DecimalField(**MONEY, help_text="What the buyer paid.")
    platform_discount = serializers.DecimalField(**MONEY, help_text="Coupons the platform funds (added to your share).")
    commission = serializers.DecimalField(**MONEY)
    referral = serializers.DecimalField(**MONEY)
    fee = serializers.DecimalField(**MONEY, help_text="The payment provider's fee.")
    tax = serializers.DecimalField(**MONEY)
    vendor_amount = serializers.DecimalField(
        **MONEY, help_text="Your share: paid + platform_discount - commission - referral - fee - tax."
    )


class LineEarningsOutput(serializers.Serializer):
    line_id = serializers.IntegerField(source="order_line.id", allow_null=True, help_text="Null for the shipping.")
    is_shipping = serializers.BooleanField()
    product_title = serializers.CharField(source="order_line.product_title", allow_null=True)
    sku = serializers.CharField(source="order_line.sku", allow_null=True)
    quantity = serializers.IntegerField(source="order_line.quantity", allow_null=True)
    commission_rate = serializers.DecimalField(**RATE, help_text="Frozen when the order was paid: 0.0500 = 5%.")
    referral_rate = serializers.DecimalField(**RATE)
    split = SplitPartsOutput(help_text="The split made when the payment was captured.")
    refunded = SplitPartsOutput(help_text="What refunds have reversed of it so far.")
    net = SplitPartsOutput(help_text="split - refunded.")


class VendorOrderEarningsOutput(serializers.Serializer):
    number = serializers.CharField(source="vendor_order.number")
    status = serializers.CharField(source="vendor_order.status")
    currency = serializers.CharField()
    settlement_state = serializers.ChoiceField(
        source="state",
        choices=["unpaid", "awaiting_delivery", "in_return_window", "held", "awaiting_completion", "due", "settled"],
    )
    settlement_state_text = serializers.CharField(source="state_text")
    settles_after = serializers.DateTimeField(
        allow_null=True, help_text="End of the return window (null until delivery)."
    )
    settled_at = serializers.DateTimeField(source="settlement.settled_at", allow_null=True)
    netted = serializers.DecimalField(
        source="settlement.netted", allow_null=True, **MONEY, help_text="Part of the share that paid off a debt."
    )
    lines = LineEarningsOutput(many=True)
    total = SplitPartsOutput()
    refunded = SplitPartsOutput()
    net = SplitPartsOutput()


class StatementQueryInput(serializers.Serializer):
    """?from=YYYY-MM-DD&to=YYYY-MM-DD[&currency=CNY] ("from" is a Python keyword, hence get_fields)."""

    def get_fields(self):
        return {
            "from": serializers.DateField(),
            "to": serializers.DateField(),
            "currency": serializers.ChoiceField(choices=CURRENCY_CHOICES, required=False),
        }


class StatementRowOutput(serializers.Serializer):
    entry_id = serializers.IntegerField()
    at = serializers.DateTimeField()
    kind = serializers.CharField(help_text="capture, refund, refund_after_settlement, settlement, payout, ...")
    description = serializers.CharField(source="label")
    order_number = serializers.CharField()
    reference = serializers.CharField()
    pending = serializers.DecimalField(**MONEY)
    available = serializers.DecimalField(**MONEY)
    in_payout = serializers.DecimalField(**MONEY)
    available_after = serializers.DecimalField(**MONEY)
    note = serializers.CharField()


class StatementOutput(serializers.Serializer):
    currency = serializers.CharField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    opening = ShopBalancesOutput()
    rows = StatementRowOutput(many=True)
    movements = ShopBalancesOutput(help_text="The sum of the rows: closing = opening + movements.")
    closing = ShopBalancesOutput()


class PayoutOutput(serializers.ModelSerializer):
    amount = serializers.DecimalField(**MONEY)
    receiver_account = serializers.CharField(source="receiver.account")

    class Meta:
        model = Payout
        fields = [
            "reference",
            "amount",
            "currency",
            "status",
            "provider",
            "receiver_account",
            "failure_reason",
            "created_at",
            "sent_at",
            "paid_at",
            "failed_at",
        ]


class PayoutRequestInput(serializers.Serializer):
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, required=False, help_text="Default: the shop's.")
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        allow_null=True,
        help_text="Default: everything available.",
    )
