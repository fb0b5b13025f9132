from django.urls import include, path

# Public catalog endpoints live in catalog/api.py, the vendor's own products in catalog/vendor_api.py.
urlpatterns: list = [
    path("", include("catalog.public_api_urls")),
    path("vendor/", include("catalog.vendor_api_urls")),
]
