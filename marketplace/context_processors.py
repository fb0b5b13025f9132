from django.conf import settings


def site(request):
    return {"SITE_NAME": "Shequn 社群", "DEFAULT_CURRENCY": settings.DEFAULT_CURRENCY}
