"""/dashboard/earnings/...: the shop's money (inside payments/urls.py, so the names are
payments:dashboard-...). Owners and managers only."""

from django.urls import path

from payments import dashboard_views as views

urlpatterns: list = [
    path("", views.earnings, name="dashboard-earnings"),
    path("statement/", views.statement, name="dashboard-statement"),
    path("statement/csv/", views.statement_csv, name="dashboard-statement-csv"),
    path("payouts/", views.payouts, name="dashboard-payouts"),
]
