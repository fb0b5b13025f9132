from django.urls import include, path

from payments import views

app_name = "payments"
# Buyer payment pages and provider webhooks below; the shop's money dashboard in dashboard_urls.py.
urlpatterns = [
    path("dashboard/earnings/", include("payments.dashboard_urls")),
    path("payments/start/<str:order_number>/", views.payment_start, name="start"),
    path("payments/return/<str:reference>/", views.payment_return, name="return"),
    path("payments/sandbox/<str:token>/", views.sandbox_page, name="sandbox-page"),
    path("payments/wechatpay/<str:token>/", views.wechatpay_code_page, name="wechatpay-code"),
    path("payments/bank-transfer/<str:reference>/", views.bank_transfer_page, name="bank-transfer"),
    path("payments/webhooks/<str:provider>/", views.webhook, name="webhook"),
]
