"""Page cache invalidation for the catalog. (Interface fixed; the catalog work fills it in.)"""

from collections.abc import Iterable


def products_changed(*, product_ids: Iterable[int]) -> None:
    """Call inside the transaction that changed price, stock or product content; the cached
    pages that show these products are invalidated after commit."""
