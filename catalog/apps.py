from django.apps import AppConfig


class CatalogConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "catalog"

    def ready(self) -> None:
        from catalog.cache import shop_changed
        from marketplace import hooks

        # A suspended, reinstated or renamed shop changes every page that shows its products.
        hooks.register(hooks.VENDOR_VISIBILITY_CHANGED, shop_changed)
