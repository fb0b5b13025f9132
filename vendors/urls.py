from django.urls import path

from vendors import views

app_name = "vendors"
urlpatterns = [
    path("sell/apply/", views.apply, name="apply"),
    path("dashboard/switch/", views.switch, name="switch"),
]
