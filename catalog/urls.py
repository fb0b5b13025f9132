from django.urls import include, path  # noqa: F401

app_name = "catalog"
# Public pages (catalog/views.py) and the vendor's product dashboard (catalog/dashboard_urls.py).
urlpatterns: list = [
    path("dashboard/products/", include("catalog.dashboard_urls")),
]
