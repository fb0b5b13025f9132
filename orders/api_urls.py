from django.urls import include, path

urlpatterns: list = [
    path("", include("orders.buyer_api_urls")),
    path("vendor/", include("orders.vendor_api_urls")),
]
