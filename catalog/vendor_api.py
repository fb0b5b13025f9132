"""/api/v1/vendor/products/..., /variants/..., /stock/: the shop's own catalog. The shop comes from
VendorStaffPermission (X-Vendor header or the user's only shop; owners and managers); every
object is fetched through catalog.vendor_selectors, so another shop's ids answer 404."""

from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Product
from catalog.services import (
    product_create,
    product_duplicate,
    product_image_add,
    product_update,
    stock_bulk_update,
    variant_create,
    variant_delete,
    variant_update,
)
from catalog.vendor_selectors import BANNED, product_get_for_vendor, variant_get_for_vendor, vendor_product_list
from catalog.vendor_serializers import (
    VendorImageOutput,
    VendorProductInput,
    VendorProductOutput,
    VendorProductPatchInput,
    VendorStockInput,
    VendorStockOutput,
    VendorVariantInput,
    VendorVariantOutput,
    VendorVariantPatchInput,
)
from marketplace.api import ERROR_RESPONSE
from vendors.dashboard import X_VENDOR_PARAMETER, VendorStaffPermission

ERRORS = {400: ERROR_RESPONSE, 403: ERROR_RESPONSE, 404: ERROR_RESPONSE}


class _VendorProductsApi(GenericAPIView):
    permission_classes = [VendorStaffPermission]
    vendor_permission = "products"
    filter_backends: list = []

    def _product(self, product_id: int, *, for_edit: bool = True) -> Product:
        return product_get_for_vendor(vendor=self.request.vendor, id=product_id, for_edit=for_edit)

    def _product_response(self, product_id: int, *, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(VendorProductOutput(self._product(product_id)).data, status=status_code)


class VendorProductListApi(_VendorProductsApi):
    serializer_class = VendorProductOutput

    @extend_schema(
        summary="My shop's products",
        tags=["vendor"],
        parameters=[
            X_VENDOR_PARAMETER,
            OpenApiParameter("q", OpenApiTypes.STR, description="Title (either language) or SKU code contains."),
            OpenApiParameter("status", OpenApiTypes.STR, enum=[*Product.Status.values, BANNED]),
        ],
        responses={200: VendorProductOutput(many=True), **ERRORS},
    )
    def get(self, request):
        status_filter = request.query_params.get("status", "")
        if status_filter and status_filter not in [*Product.Status.values, BANNED]:
            raise exceptions.ValidationError(
                {
                    "status": gettext("Unknown status; use one of %(values)s.")
                    % {"values": ", ".join([*Product.Status.values, BANNED])}
                }
            )
        products = vendor_product_list(
            vendor=request.vendor, query=request.query_params.get("q", ""), status=status_filter, with_variants=True
        )
        page = self.paginate_queryset(products)
        return self.get_paginated_response(VendorProductOutput(page, many=True).data)

    @extend_schema(
        summary="Create a product",
        description="A draft unless `status` is given; variants may be given at once. SKU codes must be new "
        "in the shop. Prices are decimal strings in the shop's currency.",
        tags=["vendor"],
        parameters=[X_VENDOR_PARAMETER],
        request=VendorProductInput,
        responses={201: VendorProductOutput, **ERRORS, 409: ERROR_RESPONSE},
    )
    def post(self, request):
        payload = VendorProductInput(data=request.data)
        payload.is_valid(raise_exception=True)
        product = product_create(vendor=request.vendor, actor=request.user, data=payload.validated_data)
        return self._product_response(product.pk, status_code=status.HTTP_201_CREATED)


class VendorProductDetailApi(_VendorProductsApi):
    serializer_class = VendorProductOutput

    @extend_schema(
        summary="One of my shop's products",
        tags=["vendor"],
        parameters=[X_VENDOR_PARAMETER],
        responses={200: VendorProductOutput, **ERRORS},
    )
    def get(self, request, product_id: int):
        return self._product_response(product_id)

    @extend_schema(
        summary="Edit a product or change its status",
        description="Only the fields given change. `status`: draft, active or hidden (409 product_banned when "
        "the marketplace banned it).",
        tags=["vendor"],
        parameters=[X_VENDOR_PARAMETER],
        request=VendorProductPatchInput,
        responses={200: VendorProductOutput, **ERRORS, 409: ERROR_RESPONSE},
    )
    def patch(self, request, product_id: int):
        product = self._product(product_id, for_edit=False)
        payload = VendorProductPatchInput(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        product = product_update(product=product, actor=request.user, data=payload.validated_data)
        return self._product_response(product.pk)


class VendorProductDuplicateApi(_VendorProductsApi):
    serializer_class = VendorProductOutput

    @extend_schema(
        summary="Duplicate a product",
        description="A draft copy with every variant (SKU codes get a -COPY suffix) and image.",
        tags=["vendor"],
        parameters=[X_VENDOR_PARAMETER],
        request=None,
        responses={201: VendorProductOutput, **ERRORS},
    )
    def post(self, request, product_id: int):
        copy = product_duplicate(product=self._product(product_id, for_edit=False), actor=request.user)
        return self._product_response(copy.pk, status_code=status.HTTP_201_CREATED)


class VendorVariantCreateApi(_VendorProductsApi):
    serializer_class = VendorVariantOutput

    @extend_schema(
        summary="Add a variant to a product",
        tags=["vendor"],
        parameters=[X_VENDOR_PARAMETER],
        request=VendorVariantInput,
        responses={201: VendorVariantOutput, **ERRORS},
    )
    def post(self, request, product_id: int):
        product = self._product(product_id, for_edit=False)
        payload = VendorVariantInput(data=request.data)
        payload.is_valid(raise_exception=True)
        variant = variant_create(product=product, actor=request.user, data=payload.validated_data)
        variant = variant_get_for_vendor(vendor=request.vendor, id=variant.pk)
        return Response(VendorVariantOutput(variant).data, status=status.HTTP_201_CREATED)


class VendorVariantDetailApi(_VendorProductsApi):
    serializer_class = VendorVariantOutput

    @extend_schema(
        summary="Change a variant (price, stock, ...)",
        description="Only the fields given change; `stock` is the new absolute stock.",
        tags=["vendor"],
        parameters=[X_VENDOR_PARAMETER],
        request=VendorVariantPatchInput,
        responses={200: VendorVariantOutput, **ERRORS},
    )
    def patch(self, request, variant_id: int):
        variant = variant_get_for_vendor(vendor=request.vendor, id=variant_id)
        payload = VendorVariantPatchInput(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        variant_update(variant=variant, actor=request.user, data=payload.validated_data)
        return Response(VendorVariantOutput(variant_get_for_vendor(vendor=request.vendor, id=variant_id)).data)

    @extend_schema(
        summary="Delete a variant",
        description="Placed orders keep their snapshot. 400 when it is the last active variant of a product on sale.",
        tags=["vendor"],
        parameters=[X_VENDOR_PARAMETER],
        responses={204: None, **ERRORS},
    )
    def delete(self, request, variant_id: int):
        variant_delete(variant=variant_get_for_vendor(vendor=request.vendor, id=variant_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VendorStockApi(APIView):
    permission_classes = [VendorStaffPermission]
    vendor_permission = "products"

    @extend_schema(
        summary="Set the stock of many variants",
        description='{"changes": [{"variant": id, "stock": n}, ...]}: all are applied or none (404 when one '
        "variant is not the shop's, 400 for a bad value).",
        tags=["vendor"],
        parameters=[X_VENDOR_PARAMETER],
        request=VendorStockInput,
        responses={200: VendorStockOutput, **ERRORS},
    )
    def post(self, request):
        payload = VendorStockInput(data=request.data)
        payload.is_valid(raise_exception=True)
        changes: dict[int, int] = {}
        for change in payload.validated_data["changes"]:
            if change["variant"] in changes:
                raise exceptions.ValidationError(
                    {"changes": gettext("Variant %(id)s is listed twice.") % {"id": change["variant"]}}
                )
            changes[change["variant"]] = change["stock"]
        changed = stock_bulk_update(vendor=request.vendor, actor=request.user, changes=changes)
        return Response(VendorStockOutput({"updated": changed}).data)


class VendorImageUploadInput(serializers.Serializer):
    image = serializers.FileField(help_text="JPEG, PNG, WebP or GIF; checked by content, size and pixel count.")
    alt = serializers.CharField(max_length=200, required=False, allow_blank=True)


class VendorProductImageApi(_VendorProductsApi):
    serializer_class = VendorImageOutput
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Upload a product image",
        description="A thumbnail is made on upload; the first image is the cover. 400 invalid_upload for "
        "non-images, oversized files and images with too many pixels.",
        tags=["vendor"],
        parameters=[X_VENDOR_PARAMETER],
        request={"multipart/form-data": VendorImageUploadInput},
        responses={201: VendorImageOutput, **ERRORS},
    )
    def post(self, request, product_id: int):
        product = self._product(product_id, for_edit=False)
        payload = VendorImageUploadInput(data=request.data)
        payload.is_valid(raise_exception=True)
        image = product_image_add(
            product=product,
            actor=request.user,
            file=payload.validated_data["image"],
            alt=payload.validated_data.get("alt", ""),
        )
        return Response(VendorImageOutput(image).data, status=status.HTTP_201_CREATED)
