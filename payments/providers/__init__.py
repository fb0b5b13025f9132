"""Provider registry. settings.PAYMENT_PROVIDERS lists the codes enabled in this deployment."""

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext

from marketplace.errors import NotFound
from payments.providers.base import PaymentProvider

PROVIDER_CLASSES: dict[str, str] = {
    "sandbox": "payments.providers.sandbox.SandboxProvider",
}


def enabled_provider_codes() -> list[str]:
    return list(settings.PAYMENT_PROVIDERS)


def get_provider(code: str) -> PaymentProvider:
    """The enabled provider with this code; NotFound for unknown or disabled ones."""
    if code not in settings.PAYMENT_PROVIDERS or code not in PROVIDER_CLASSES:
        raise NotFound(gettext("Unknown payment provider."))
    return import_string(PROVIDER_CLASSES[code])()
