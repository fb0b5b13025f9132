"""The vendor dashboard's home and order pages, at /dashboard/ under the "orders" namespace."""

from django.urls import path

from orders import dashboard_views

urlpatterns: list = [
    path("", dashboard_views.home, name="dashboard-home"),
    path("orders/", dashboard_views.order_list, name="dashboard-orders"),
    path("orders/<str:number>/", dashboard_views.order_detail, name="dashboard-order"),
    path("orders/<str:number>/ship/", dashboard_views.order_ship, name="dashboard-order-ship"),
]
