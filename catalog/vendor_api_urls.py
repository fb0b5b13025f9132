"""/api/v1/vendor/...: the shop's own products, variants and stock (catalog/vendor_api.py)."""

from django.urls import path

from catalog import vendor_api

urlpatterns: list = [
    path("products/", vendor_api.VendorProductListApi.as_view(), name="api-vendor-products"),
    path("products/<int:product_id>/", vendor_api.VendorProductDetailApi.as_view(), name="api-vendor-product"),
    path(
        "products/<int:product_id>/duplicate/",
        vendor_api.VendorProductDuplicateApi.as_view(),
        name="api-vendor-product-duplicate",
    ),
    path(
        "products/<int:product_id>/variants/",
        vendor_api.VendorVariantCreateApi.as_view(),
        name="api-vendor-product-variants",
    ),
    path(
        "products/<int:product_id>/images/",
        vendor_api.VendorProductImageApi.as_view(),
        name="api-vendor-product-images",
    ),
    path("variants/<int:variant_id>/", vendor_api.VendorVariantDetailApi.as_view(), name="api-vendor-variant"),
    path("stock/", vendor_api.VendorStockApi.as_view(), name="api-vendor-stock"),
]
