"""The vendor dashboard's home and order pages, at /dashboard/ under the "orders" namespace."""

from django.urls import path

from orders import coupon_views, dashboard_views, return_dashboard_views

urlpatterns: list = [
    path("", dashboard_views.home, name="dashboard-home"),
    path("orders/", dashboard_views.order_list, name="dashboard-orders"),
    # Returns sit under orders/ (the "orders" role permission covers them), before <number>.
    path("orders/returns/", return_dashboard_views.return_list, name="dashboard-returns"),
    path("orders/returns/<str:number>/", return_dashboard_views.return_detail, name="dashboard-return"),
    path("orders/returns/<str:number>/accept/", return_dashboard_views.return_accept, name="dashboard-return-accept"),
    path("orders/returns/<str:number>/refuse/", return_dashboard_views.return_refuse, name="dashboard-return-refuse"),
    path(
        "orders/returns/<str:number>/goods-received/",
        return_dashboard_views.return_goods_received,
        name="dashboard-return-goods-received",
    ),
    path("orders/<str:number>/", dashboard_views.order_detail, name="dashboard-order"),
    path("orders/<str:number>/ship/", dashboard_views.order_ship, name="dashboard-order-ship"),
    path("coupons/", coupon_views.coupon_list, name="dashboard-coupons"),
    path("coupons/new/", coupon_views.coupon_new, name="dashboard-coupon-new"),
    path("coupons/<int:coupon_id>/deactivate/", coupon_views.coupon_stop, name="dashboard-coupon-deactivate"),
]
