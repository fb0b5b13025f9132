from django.urls import path

from catalog import api

urlpatterns: list = [
    path("categories/", api.CategoryListView.as_view(), name="api-categories"),
    path("categories/tree/", api.CategoryTreeView.as_view(), name="api-category-tree"),
    path("shops/", api.ShopListView.as_view(), name="api-shops"),
    path("shops/<slug:slug>/", api.ShopDetailView.as_view(), name="api-shop"),
    path("products/", api.ProductListView.as_view(), name="api-products"),
    path("products/<int:id>/", api.ProductDetailView.as_view(), name="api-product"),
]
