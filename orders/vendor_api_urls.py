"""/api/v1/vendor/orders/...: the shop's own orders."""

from django.urls import path

from orders import vendor_api

urlpatterns: list = [
    path("orders/", vendor_api.VendorOrderListApi.as_view(), name="api-vendor-orders"),
    path("orders/<str:number>/", vendor_api.VendorOrderDetailApi.as_view(), name="api-vendor-order"),
    path("orders/<str:number>/ship/", vendor_api.VendorOrderShipApi.as_view(), name="api-vendor-order-ship"),
]
