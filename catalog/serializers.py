"""Output shapes of the public catalog API. Money is a string (exact), never a float."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Category, Product, ProductImage, ProductVariant
from vendors.models import Vendor


def _absolute(request, url: str) -> str:
    if not url:
        return ""
    return request.build_absolute_uri(url) if request is not None else url


class PublicCategoryOutput(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    parent = serializers.IntegerField(source="parent_id", allow_null=True, read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent", "depth", "url"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, category: Category) -> str:
        return _absolute(self.context.get("request"), f"/c/{category.slug}/")


class PublicCategoryTreeOutput(PublicCategoryOutput):
    children = serializers.SerializerMethodField()

    class Meta(PublicCategoryOutput.Meta):
        fields = [*PublicCategoryOutput.Meta.fields, "children"]

    @extend_schema_field({"type": "array", "items": {"$ref": "#/components/schemas/PublicCategoryTreeOutput"}})
    def get_children(self, category: Category) -> list:
        children = self.context["children"].get(category.pk, [])
        return PublicCategoryTreeOutput(children, many=True, context=self.context).data


class PublicShopBriefOutput(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = Vendor
        fields = ["slug", "name"]


class PublicShopOutput(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    banner = serializers.SerializerMethodField()
    logo = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Vendor
        fields = [
            "slug",
            "name",
            "description",
            "shop_type",
            "currency",
            "sells_wholesale",
            "sells_cross_border",
            "banner",
            "logo",
            "url",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_banner(self, vendor: Vendor) -> str:
        return _absolute(self.context.get("request"), vendor.banner.url) if vendor.banner else ""

    @extend_schema_field(OpenApiTypes.URI)
    def get_logo(self, vendor: Vendor) -> str:
        return _absolute(self.context.get("request"), vendor.logo.url) if vendor.logo else ""

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, vendor: Vendor) -> str:
        return _absolute(self.context.get("request"), f"/s/{vendor.slug}/")


class PublicCategoryBriefOutput(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = Category
        fields = ["id", "slug", "name"]


class PublicProductListOutput(serializers.ModelSerializer):
    """One listing item: `title` in the current language, prices as strings."""

    title = serializers.CharField(read_only=True)
    price = serializers.DecimalField(source="min_price", max_digits=14, decimal_places=2, read_only=True)
    min_price = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    max_price = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    in_stock = serializers.BooleanField(source="has_stock", read_only=True)
    shop = PublicShopBriefOutput(source="vendor", read_only=True)
    thumbnail = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = [
            "id",
            "slug",
            "title",
            "price",
            "min_price",
            "max_price",
            "currency",
            "in_stock",
            "sold_count",
            "shop",
            "category_id",
            "thumbnail",
            "url",
            "created_at",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail(self, product: Product) -> str:
        return _absolute(self.context.get("request"), product.cover_thumbnail)

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, product: Product) -> str:
        return _absolute(self.context.get("request"), f"/p/{product.slug}/")


class PublicVariantOutput(serializers.ModelSerializer):
    price = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    compare_at_price = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, allow_null=True)
    currency = serializers.SerializerMethodField()
    attributes = serializers.SerializerMethodField()

    class Meta:
        model = ProductVariant
        fields = ["id", "sku", "name", "price", "compare_at_price", "currency", "stock", "attributes"]

    def get_currency(self, variant: ProductVariant) -> str:
        return self.context["product"].currency

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_attributes(self, variant: ProductVariant) -> dict[str, str]:
        return {value.attribute.slug: value.value for value in variant.attribute_list}


class PublicImageOutput(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    thumbnail = serializers.SerializerMethodField()

    class Meta:
        model = ProductImage
        fields = ["url", "thumbnail", "alt"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, image: ProductImage) -> str:
        return _absolute(self.context.get("request"), image.image.url) if image.image else ""

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail(self, image: ProductImage) -> str:
        return _absolute(self.context.get("request"), image.thumbnail.url) if image.thumbnail else ""


class PublicProductDetailOutput(PublicProductListOutput):
    description = serializers.CharField(read_only=True)
    category = PublicCategoryBriefOutput(read_only=True)
    shop = PublicShopOutput(source="vendor", read_only=True)
    in_stock = serializers.SerializerMethodField()
    variants = serializers.SerializerMethodField()
    images = PublicImageOutput(source="image_list", many=True, read_only=True)

    class Meta(PublicProductListOutput.Meta):
        fields = [
            *(f for f in PublicProductListOutput.Meta.fields if f != "category_id"),
            "description",
            "category",
            "variants",
            "images",
        ]

    def get_in_stock(self, product: Product) -> bool:
        return any(variant.stock > 0 for variant in product.active_variants)

    @extend_schema_field(PublicVariantOutput(many=True))
    def get_variants(self, product: Product) -> list:
        return PublicVariantOutput(
            product.active_variants, many=True, context={**self.context, "product": product}
        ).data
