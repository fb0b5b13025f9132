from django.urls import path

from payments import api

urlpatterns = [
    path("payments/", api.PaymentStartApi.as_view(), name="api-payment-start"),
    path("payments/<str:reference>/", api.PaymentDetailApi.as_view(), name="api-payment-detail"),
    # The shop's money. orders/<number>/earnings/ does not clash with the orders API's orders/<number>/.
    path("vendor/earnings/", api.VendorEarningsApi.as_view(), name="api-vendor-earnings"),
    path(
        "vendor/orders/<str:number>/earnings/", api.VendorOrderEarningsApi.as_view(), name="api-vendor-order-earnings"
    ),
    path("vendor/statements/", api.VendorStatementApi.as_view(), name="api-vendor-statements"),
    path("vendor/statements.csv", api.VendorStatementCsvApi.as_view(), name="api-vendor-statements-csv"),
    path("vendor/payouts/", api.VendorPayoutListApi.as_view(), name="api-vendor-payouts"),
]
