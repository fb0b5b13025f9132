from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from marketplace import views

api_v1 = [
    path("auth/token/", views.TokenObtainView.as_view(), name="api-token"),
    path("", include("catalog.api_urls")),
    path("", include("vendors.api_urls")),
    path("", include("orders.api_urls")),
    path("", include("payments.api_urls")),
]

urlpatterns = [
    # The shoppers' pages first: the resolver tries patterns in order, and these are the hot ones.
    path("", include("catalog.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("notifications/", views.notification_list, name="notifications"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("healthz", views.health, name="health"),
    path("bench/bare/", views.bench_bare, name="bench-bare"),
    path("", include("payments.urls")),
    path("", include("orders.urls")),
    path("", include("vendors.urls")),
]

if settings.DEBUG or settings.SERVE_MEDIA:
    urlpatterns += [path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT})]
