"""/dashboard/products/... (inside catalog/urls.py, so the names are catalog:dashboard_...)."""

from django.urls import path

from catalog import dashboard_views as views

urlpatterns = [
    path("", views.product_list, name="dashboard_products"),
    path("new/", views.product_new, name="dashboard_product_new"),
    path("stock/", views.stock, name="dashboard_stock"),
    path("import/", views.csv_import, name="dashboard_import"),
    path("export/", views.csv_export, name="dashboard_export"),
    path("<int:product_id>/edit/", views.product_edit, name="dashboard_product_edit"),
    path("<int:product_id>/duplicate/", views.product_copy, name="dashboard_product_duplicate"),
    path("<int:product_id>/status/", views.product_status, name="dashboard_product_status"),
    path("<int:product_id>/variants/", views.variant_add, name="dashboard_variant_add"),
    path("<int:product_id>/variants/<int:variant_id>/", views.variant_edit, name="dashboard_variant_edit"),
    path("<int:product_id>/variants/<int:variant_id>/delete/", views.variant_remove, name="dashboard_variant_delete"),
    path("<int:product_id>/images/", views.image_upload, name="dashboard_image_upload"),
    path("<int:product_id>/images/<int:image_id>/delete/", views.image_remove, name="dashboard_image_delete"),
]
