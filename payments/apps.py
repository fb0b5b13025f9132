from django.apps import AppConfig
from django.core import checks


class PaymentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "payments"

    def ready(self) -> None:
        checks.register(check_payment_settings)


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
