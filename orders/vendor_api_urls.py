"""/api/v1/vendor/orders/...: the shop's own orders."""

from django.urls import path

from orders import return_api, vendor_api

urlpatterns: list = [
    path("orders/", vendor_api.VendorOrderListApi.as_view(), name="api-vendor-orders"),
    # Returns before orders/<number>/ (which would take "returns" for an order number).
    path("orders/returns/", return_api.VendorReturnListApi.as_view(), name="api-vendor-returns"),
    path("orders/returns/<str:number>/", return_api.VendorReturnDetailApi.as_view(), name="api-vendor-return"),
    path(
        "orders/returns/<str:number>/accept/",
        return_api.VendorReturnAcceptApi.as_view(),
        name="api-vendor-return-accept",
    ),
    path(
        "orders/returns/<str:number>/refuse/",
        return_api.VendorReturnRefuseApi.as_view(),
        name="api-vendor-return-refuse",
    ),
    path(
        "orders/returns/<str:number>/goods-received/",
        return_api.VendorReturnGoodsReceivedApi.as_view(),
        name="api-vendor-return-goods-received",
    ),
    path("orders/<str:number>/", vendor_api.VendorOrderDetailApi.as_view(), name="api-vendor-order"),
    path("orders/<str:number>/ship/", vendor_api.VendorOrderShipApi.as_view(), name="api-vendor-order-ship"),
]
