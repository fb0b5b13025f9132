from django.urls import path

from payments import api

urlpatterns = [
    path("payments/", api.PaymentStartApi.as_view(), name="api-payment-start"),
    path("payments/<str:reference>/", api.PaymentDetailApi.as_view(), name="api-payment-detail"),
]
