"""Input and output shapes of the vendor products API. Inputs check shape only; the rules are
in catalog.services. Names start with "Vendor" so they stay distinct in the OpenAPI schema."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Category, Product, ProductImage, ProductVariant
from catalog.services.validation import SKU_MAX_LENGTH, STOCK_MAX, WEIGHT_MAX_GRAMS

OPTIONS_SCHEMA = {"type": "object", "additionalProperties": {"type": "string"}, "example": {"Colour": "Red"}}


class VendorVariantOutput(serializers.ModelSerializer):
    attributes = serializers.SerializerMethodField()

    class Meta:
        model = ProductVariant
        fields = ["id", "sku", "name", "price", "compare_at_price", "stock", "weight_grams", "is_active", "attributes"]

    @extend_schema_field(OPTIONS_SCHEMA)
    def get_attributes(self, variant: ProductVariant) -> dict[str, str]:
        return {value.attribute.name: value.value for value in variant.attribute_values.all()}


class VendorImageOutput(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = ProductImage
        fields = ["id", "url", "thumbnail_url", "alt", "position"]

    def get_url(self, image: ProductImage) -> str:
        return image.image.url

    def get_thumbnail_url(self, image: ProductImage) -> str:
        return image.thumbnail.url if image.thumbnail else ""


class VendorProductOutput(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    variants = VendorVariantOutput(many=True, read_only=True)
    images = VendorImageOutput(many=True, read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "slug",
            "title_en",
            "title_zh_hans",
            "description_en",
            "description_zh_hans",
            "category",
            "status",
            "is_banned",
            "ban_reason",
            "currency",
            "min_price",
            "max_price",
            "total_stock",
            "sold_count",
            "referral_rate",
            "cover_thumbnail",
            "created_at",
            "updated_at",
            "variants",
            "images",
        ]


class VendorVariantInput(serializers.Serializer):
    sku = serializers.CharField(max_length=SKU_MAX_LENGTH)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    compare_at_price = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    stock = serializers.IntegerField(min_value=0, max_value=STOCK_MAX, required=False)
    weight_grams = serializers.IntegerField(min_value=0, max_value=WEIGHT_MAX_GRAMS, required=False)
    is_active = serializers.BooleanField(required=False)
    attributes = serializers.DictField(
        child=serializers.CharField(max_length=60), required=False, help_text='Options, e.g. {"Colour": "Red"}.'
    )


class VendorVariantPatchInput(VendorVariantInput):
    """Every field optional: only those given change. `stock` is the new absolute stock."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class VendorProductInput(serializers.Serializer):
    title_en = serializers.CharField(max_length=200, required=False, allow_blank=True)
    title_zh_hans = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description_en = serializers.CharField(required=False, allow_blank=True, help_text="Sanitised HTML.")
    description_zh_hans = serializers.CharField(required=False, allow_blank=True, help_text="Sanitised HTML.")
    category = serializers.SlugRelatedField(slug_field="slug", queryset=Category.objects.all())
    status = serializers.ChoiceField(choices=Product.Status.choices, required=False)
    referral_rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        required=False,
        help_text="Referral commission, out of the shop's share: 0.0500 = 5% of what the buyer pays for the line; "
        "0 to the platform's maximum (REFERRAL_RATE_MAX, default 0.2000).",
    )
    variants = VendorVariantInput(many=True, required=False)


class VendorProductPatchInput(VendorProductInput):
    """Every field optional; `status` goes through the status rules (a banned product cannot be
    put on sale, a product on sale needs an active variant)."""

    variants = None  # variants have their own endpoints

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class VendorStockChangeInput(serializers.Serializer):
    variant = serializers.IntegerField(min_value=1)
    stock = serializers.IntegerField(min_value=0, max_value=STOCK_MAX)


class VendorStockInput(serializers.Serializer):
    changes = VendorStockChangeInput(many=True, allow_empty=False, max_length=1000)


class VendorStockOutput(serializers.Serializer):
    updated = VendorVariantOutput(many=True)
