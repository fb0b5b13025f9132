from django.apps import AppConfig
from django.core import checks


class MarketplaceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "marketplace"
    verbose_name = "Marketplace"

    def ready(self) -> None:
        checks.register(production_settings_check, checks.Tags.security, deploy=True)


def production_settings_check(app_configs, **kwargs):
    """Refuse to deploy with development secrets or the embedded database."""
    from django.conf import settings

    errors = []
    if not settings.DEBUG:
        if settings.SANDBOX_PAYMENT_SECRET == "sandbox-dev-secret":
            errors.append(checks.Warning("SANDBOX_PAYMENT_SECRET is the development value.", id="marketplace.W001"))
        if not settings.USES_POSTGRES:
            errors.append(
                checks.Warning(
                    "DATABASE_URL is not PostgreSQL: locking and search are only production-grade on PostgreSQL.",
                    id="marketplace.W002",
                )
            )
    return errors
