from rest_framework import serializers

from payments.models import Payment


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
