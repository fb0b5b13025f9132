"""Search over titles, descriptions, shop names and SKU codes, in English and Chinese.
(Interface fixed; the catalog search work fills in the bodies.)"""

from collections.abc import Iterable


def search_document_for(*, titles: list[str], descriptions: list[str], vendor_names: list[str], skus: list[str]) -> str:
    """The text indexed for one product (segmented so Chinese words can be found)."""
    return " ".join([*titles, *descriptions, *vendor_names, *skus])


def search_refresh(*, product_ids: Iterable[int] | None = None) -> None:
    """Recompute the search vector from search_document, set-wise in SQL (all when None)."""
