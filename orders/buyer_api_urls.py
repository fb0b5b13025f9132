from django.urls import path

from orders import buyer_api

urlpatterns: list = [
    path("cart/", buyer_api.CartView.as_view(), name="api-cart"),
    path("cart/lines/", buyer_api.CartLinesView.as_view(), name="api-cart-lines"),
    path("cart/lines/<int:line_id>/", buyer_api.CartLineView.as_view(), name="api-cart-line"),
    path("addresses/", buyer_api.AddressesView.as_view(), name="api-addresses"),
    path("addresses/<int:address_id>/", buyer_api.AddressView.as_view(), name="api-address"),
    path("orders/", buyer_api.OrdersView.as_view(), name="api-orders"),
    path("orders/<str:number>/", buyer_api.OrderView.as_view(), name="api-order"),
    path("orders/<str:number>/cancel/", buyer_api.OrderCancelView.as_view(), name="api-order-cancel"),
]
