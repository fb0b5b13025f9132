from django.urls import path

from orders import buyer_api, return_api

urlpatterns: list = [
    path("cart/", buyer_api.CartView.as_view(), name="api-cart"),
    path("cart/lines/", buyer_api.CartLinesView.as_view(), name="api-cart-lines"),
    path("cart/lines/<int:line_id>/", buyer_api.CartLineView.as_view(), name="api-cart-line"),
    path("addresses/", buyer_api.AddressesView.as_view(), name="api-addresses"),
    path("addresses/<int:address_id>/", buyer_api.AddressView.as_view(), name="api-address"),
    path("orders/", buyer_api.OrdersView.as_view(), name="api-orders"),
    path("orders/<str:number>/", buyer_api.OrderView.as_view(), name="api-order"),
    path("orders/<str:number>/cancel/", buyer_api.OrderCancelView.as_view(), name="api-order-cancel"),
    path("returns/", return_api.BuyerReturnsApi.as_view(), name="api-returns"),
    path("returns/<str:number>/", return_api.BuyerReturnApi.as_view(), name="api-return"),
    path("returns/<str:number>/cancel/", return_api.BuyerReturnCancelApi.as_view(), name="api-return-cancel"),
    path("returns/<str:number>/ship-back/", return_api.BuyerReturnShipBackApi.as_view(), name="api-return-ship-back"),
    path("returns/<str:number>/dispute/", return_api.BuyerReturnDisputeApi.as_view(), name="api-return-dispute"),
]
