from django.urls import path

from vendors import views

app_name = "vendors"
urlpatterns = [
    path("sell/apply/", views.apply, name="apply"),
    path("dashboard/switch/", views.switch, name="switch"),
    path("dashboard/staff/", views.staff, name="staff"),
    path("dashboard/staff/<int:member_id>/role/", views.staff_role, name="staff_role"),
    path("dashboard/staff/<int:member_id>/remove/", views.staff_remove, name="staff_remove"),
    path("dashboard/shipping/", views.shipping, name="shipping"),
    path("dashboard/shipping/new/", views.shipping_create, name="shipping_create"),
    path("dashboard/shipping/<int:template_id>/", views.shipping_edit, name="shipping_edit"),
    path("dashboard/shipping/<int:template_id>/deactivate/", views.shipping_deactivate, name="shipping_deactivate"),
    path("dashboard/shipping/<int:template_id>/activate/", views.shipping_activate, name="shipping_activate"),
    path("dashboard/shop/", views.shop_profile, name="shop_profile"),
]
