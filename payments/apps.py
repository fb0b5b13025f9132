from django.apps import AppConfig
from django.core import checks


class PaymentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "payments"

    def ready(self) -> None:
        checks.register(check_payment_settings)
        from payments.services.refunds import register_hooks

        register_hooks()
        from payments.providers.bank_transfer import check_bank_transfer_settings

        checks.register(check_bank_transfer_settings)
        checks.register(check_paypal_settings)
        checks.register(check_wechatpay_settings)


def check_payment_settings(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Refuse to start with a provider we do not know, or with no provider at all."""
    from django.conf import settings

    from payments.providers import PROVIDER_CLASSES

    errors: list[checks.CheckMessage] = []
    if not settings.PAYMENT_PROVIDERS:
        errors.append(checks.Error("PAYMENT_PROVIDERS is empty: buyers could not pay.", id="payments.E001"))
    for code in settings.PAYMENT_PROVIDERS:
        if code not in PROVIDER_CLASSES:
            errors.append(
                checks.Error(
                    f"PAYMENT_PROVIDERS names unknown provider {code!r}.",
                    hint=f"Known providers: {', '.join(sorted(PROVIDER_CLASSES))}.",
                    id="payments.E002",
                )
            )
    return errors


def check_paypal_settings(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """PayPal needs its REST app's credentials and the webhook id it verifies notifications with."""
    from django.conf import settings

    if "paypal" not in settings.PAYMENT_PROVIDERS:
        return []
    required = ("PAYPAL_BASE_URL", "PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET", "PAYPAL_WEBHOOK_ID")
    return [
        checks.Error(
            f"PAYMENT_PROVIDERS enables paypal but {name} is empty.",
            hint="Set it from the PayPal Developer Dashboard (REST app credentials, webhook id).",
            id="payments.E030",
        )
        for name in required
        if not getattr(settings, name, "")
    ]


def check_wechatpay_settings(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """WeChat Pay needs the merchant's id, app id, API key pair, platform key and APIv3 key."""
    from django.conf import settings

    if "wechatpay" not in settings.PAYMENT_PROVIDERS:
        return []
    from payments.providers.wechatpay import configuration_problems

    return [
        checks.Error(
            f"PAYMENT_PROVIDERS enables wechatpay but {problem}",
            hint="Set the WECHATPAY_* settings from the WeChat Pay merchant platform (docs/payments.md).",
            id="payments.E040",
        )
        for problem in configuration_problems()
    ]
