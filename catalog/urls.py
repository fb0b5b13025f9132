from django.urls import include, path

from catalog import views

app_name = "catalog"
# Public pages (catalog/views.py) and the vendor's product dashboard (catalog/dashboard_urls.py).
urlpatterns: list = [
    path("dashboard/products/", include("catalog.dashboard_urls")),
    path("", views.home, name="home"),
    path("products/", views.market, name="market"),
    path("search/", views.search, name="search"),
    path("c/<slug:slug>/", views.category_detail, name="category"),
    path("p/<slug:slug>/", views.product_detail, name="product"),
    path("s/<slug:slug>/", views.shop_detail, name="shop"),
    path("csrf/", views.csrf_cookie, name="csrf"),
]
