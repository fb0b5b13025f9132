"""Pagination of product listings for pages and the API."""

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.utils.functional import cached_property

from catalog.cache import listing_data_cached


class ProductPaginator(Paginator):
    """Pages of a product listing.

    The count can be given (the facets counted the same set already; the API's filter set
    attaches it as `known_count`) instead of running COUNT(*) again.

    A search ordered by relevance must rank every match before it can cut a page, so its page
    is read in two steps: the ranking selects only ids (a narrow sort of a few thousand
    matches), then the page's rows are read by id. In one step PostgreSQL carries every
    column of every match through the sort, which doubled the time of a search page. The
    ranked ids of a page are kept like the facet counts (exact: see listing_data_cached)."""

    def __init__(self, object_list, per_page, *, count: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self._given_count = count

    @cached_property
    def count(self) -> int:
        if self._given_count is not None:
            return self._given_count
        known = getattr(self.object_list, "known_count", None)
        return known if known is not None else super().count

    def page(self, number):
        query = getattr(self.object_list, "query", None)
        if query is None or "search_rank" not in query.annotations:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ranked = self.object_list.values_list("pk", flat=True)[bottom:top]
        try:
            sql, params = ranked.query.sql_with_params()
        except EmptyResultSet:  # nothing matches, or an empty page
            return self._get_page([], number, self)
        ids = listing_data_cached(f"ranked|{sql}|{params!r}", lambda: list(ranked))
        rows = {product.pk: product for product in self.object_list.filter(pk__in=ids).order_by()}
        return self._get_page([rows[pk] for pk in ids if pk in rows], number, self)
