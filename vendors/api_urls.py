from django.urls import path

from vendors import api

urlpatterns = [
    path("vendor/shops/", api.MyShopListView.as_view(), name="vendor-shops"),
    path("vendor/shipping-templates/", api.ShippingTemplateListView.as_view(), name="vendor-shipping-templates"),
]
