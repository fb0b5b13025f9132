from django.urls import include, path

from orders import coupon_views, views

app_name = "orders"
# Buyer pages (cart, checkout, orders) below; the vendor's order dashboard in dashboard_urls.py.
urlpatterns: list = [
    path("dashboard/", include("orders.dashboard_urls")),
    path("cart/", views.cart_detail, name="cart"),
    path("cart/add/", views.cart_add, name="cart_add"),
    path("cart/lines/<int:line_id>/", views.cart_line_update, name="cart_line_update"),
    path("cart/lines/<int:line_id>/remove/", views.cart_line_remove, name="cart_line_remove"),
    path("checkout/", views.checkout, name="checkout"),
    path("coupons/<int:coupon_id>/claim/", coupon_views.claim, name="coupon_claim"),
    path("addresses/", views.address_list, name="addresses"),
    path("addresses/new/", views.address_create, name="address_create"),
    path("addresses/<int:address_id>/", views.address_edit, name="address_edit"),
    path("addresses/<int:address_id>/delete/", views.address_delete, name="address_delete"),
    path("orders/", views.order_list, name="list"),
    path("orders/<str:number>/", views.order_detail, name="detail"),
    path("orders/<str:number>/cancel/", views.order_cancel, name="cancel"),
    path("orders/<str:number>/parts/<str:part>/confirm-receipt/", views.order_confirm_receipt, name="confirm_receipt"),
    path("orders/<str:number>/parts/<str:part>/return/", views.return_new, name="return_new"),
    path("returns/", views.return_list, name="returns"),
    path("returns/<str:number>/", views.return_detail, name="return_detail"),
    path("returns/<str:number>/photos/<int:photo_id>/", views.return_photo, name="return_photo"),
    path("returns/<str:number>/cancel/", views.return_cancel, name="return_cancel"),
    path("returns/<str:number>/ship-back/", views.return_ship_back, name="return_ship_back"),
    path("returns/<str:number>/dispute/", views.return_dispute, name="return_dispute"),
]
