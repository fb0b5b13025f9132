from django.urls import include, path

app_name = "orders"
# Buyer pages (cart, checkout, orders) below; the vendor's order dashboard in dashboard_urls.py.
urlpatterns: list = [
    path("dashboard/", include("orders.dashboard_urls")),
]
