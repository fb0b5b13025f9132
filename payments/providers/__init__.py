"""Provider registry. settings.PAYMENT_PROVIDERS lists the codes enabled in this deployment."""

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext

from marketplace.errors import NotFound
from payments.providers.base import PaymentProvider

PROVIDER_CLASSES: dict[str, str] = {
    "sandbox": "payments.providers.sandbox.SandboxProvider",
    "bank_transfer": "payments.providers.bank_transfer.BankTransferProvider",
    "wechatpay": "payments.providers.wechatpay.WeChatPayProvider",
    "paypal": "payments.providers.paypal.PayPalProvider",
}


def enabled_provider_codes() -> list[str]:
    return list(settings.PAYMENT_PROVIDERS)


def get_provider_class(code: str) -> type[PaymentProvider]:
    """The provider's class even when it is no longer enabled: money it took is still split,
    settled and refunded by it."""
    return import_string(PROVIDER_CLASSES[code])


def get_provider(code: str) -> PaymentProvider:
    """The enabled provider with this code; NotFound for unknown or disabled ones."""
    if code not in settings.PAYMENT_PROVIDERS or code not in PROVIDER_CLASSES:
        raise NotFound(gettext("Unknown payment provider."))
    return import_string(PROVIDER_CLASSES[code])()
