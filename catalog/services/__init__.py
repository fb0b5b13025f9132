"""Every write to the catalog. Each public function is keyword-only, names its actor, runs in
one transaction and leaves the derived product fields (price range, stock, cover, search
document, page cache) up to date. Split by sub-domain; import from `catalog.services`."""

from catalog.services.csv_import import ImportFailed, ImportSummary, RowError, products_import_csv
from catalog.services.derived import product_refresh_derived
from catalog.services.media import MAX_IMAGES_PER_PRODUCT, product_image_add, product_image_delete
from catalog.services.products import (
    ProductData,
    product_ban,
    product_create,
    product_duplicate,
    product_set_status,
    product_unban,
    product_update,
)
from catalog.services.validation import DuplicateSku, ProductBanned, ProductInvalid, description_clean
from catalog.services.variants import (
    VariantData,
    attribute_values_get_or_create,
    stock_bulk_update,
    variant_create,
    variant_delete,
    variant_update,
)

__all__ = [
    "MAX_IMAGES_PER_PRODUCT",
    "DuplicateSku",
    "ImportFailed",
    "ImportSummary",
    "ProductBanned",
    "ProductData",
    "ProductInvalid",
    "RowError",
    "VariantData",
    "attribute_values_get_or_create",
    "description_clean",
    "product_ban",
    "product_create",
    "product_duplicate",
    "product_image_add",
    "product_image_delete",
    "product_refresh_derived",
    "product_set_status",
    "product_unban",
    "product_update",
    "products_import_csv",
    "stock_bulk_update",
    "variant_create",
    "variant_delete",
    "variant_update",
]
