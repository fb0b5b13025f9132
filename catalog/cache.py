"""Page cache for the public catalog, with invalidation by version counters.

Each cached page depends on named versions: every listing, search, category, shop and home
page on the catalog-wide listing version; a product page on its product's version (by slug,
so that its name is known from the URL alone). Services call `products_changed` inside the
transaction that changed a price, stock or product content; after commit those versions move
on. A stored page carries the versions it was rendered under, read BEFORE its rows were read:
a change committed while it renders leaves it stale on arrival, so it is never served. Nothing
has to be found and deleted, and a hit is one Redis round trip (the page and its versions).

Only anonymous GETs are cached, and never a response that sets a cookie or shows messages.
A cached page must not carry one visitor's CSRF token: while a page is being rendered for
the cache, `request.page_cache_active` is set, templates leave the token out, and
static/js/csrf.js fills it in the browser from the `csrftoken` cookie (from /csrf/).
"""

import functools
import hashlib
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

T = TypeVar("T")
LISTING = "listing"
VERSION_PREFIX = "catalog:v:"
PAGE_PREFIX = "catalog:page:"
COUNTS_PREFIX = "catalog:counts:"
HEADER = "X-Page-Cache"
REPLAYED_HEADERS = ("Content-Type", "Content-Language", "Vary")
# Versions expire when unused for a week: a page stored under a forgotten version is then
# simply a miss. (Never `None`: every product slug asked for would live in Redis forever.)
VERSION_SECONDS = 7 * 24 * 3600


def _version_key(name: str) -> str:
    return VERSION_PREFIX + name


def product_page_dependency(slug: str) -> str:
    return f"product:{slug}"


def _new_version() -> int:
    return time.time_ns()


def _bump(names: Iterable[str]) -> None:
    version = _new_version()
    cache.set_many({_version_key(name): version for name in names}, timeout=VERSION_SECONDS)


def _bump_products(product_ids: list[int]) -> None:
    from catalog.models import Product

    slugs = Product.objects.filter(pk__in=product_ids).values_list("slug", flat=True)
    _bump([LISTING, *(product_page_dependency(slug) for slug in slugs)])


def products_changed(*, product_ids: Iterable[int]) -> None:
    """Call inside the transaction that changed price, stock or product content; the cached
    pages that show these products are invalidated after commit."""
    ids = sorted({int(pid) for pid in product_ids})
    transaction.on_commit(lambda: _bump_products(ids))


def shop_changed(*, vendor_id: int) -> None:
    """A shop was suspended, reinstated or renamed: its product pages and every listing are
    invalidated after commit."""
    from catalog.models import Product

    transaction.on_commit(
        lambda: _bump_products(list(Product.objects.filter(vendor_id=vendor_id).values_list("pk", flat=True)))
    )


def catalog_changed() -> None:
    """Invalidate every listing page after commit (categories, anything catalog-wide)."""
    transaction.on_commit(lambda: _bump([LISTING]))


def _versions(names: list[str], found: dict) -> dict[str, int]:
    """The versions of these names from a get_many result; a missing counter is created, so
    that pages can be compared with it."""
    versions: dict[str, int] = {}
    for name in names:
        value = found.get(_version_key(name))
        if value is None:
            cache.add(_version_key(name), _new_version(), timeout=VERSION_SECONDS)
            value = cache.get(_version_key(name))
        versions[name] = value
    return versions


# --- Listing counts and search rankings ----------------------------------------------------


# Set by @page_cache for the duration of a page: what listing_data_cached read once.
_request_state: ContextVar[dict | None] = ContextVar("catalog_request_state", default=None)


def _newest_ids() -> tuple:
    from catalog.models import Category, Product

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT max(id) FROM {Product._meta.db_table}), (SELECT max(id) FROM {Category._meta.db_table})"
        )
        return cursor.fetchone()


def listing_data_cached(key: str, compute: Callable[[], T]) -> T:
    """A listing's facet counts, a search's ranked page of ids or the category tree, computed once per catalog
    state and kept for settings.CATALOG_COUNTS_CACHE_SECONDS (default 300; 0 turns it off).
    Counting a whole market by shop, category and attribute, or ranking thousands of search
    matches, takes far longer than showing a page of products; the rows themselves are
    always read fresh.

    Never stale: the key holds the listing version (moved after every committed catalog
    change) and the highest product and category ids (so rows inserted without services
    still count). Never used inside a transaction: what it sees may not be committed."""
    seconds = getattr(settings, "CATALOG_COUNTS_CACHE_SECONDS", 300)
    if not seconds or connection.in_atomic_block:
        return compute()
    state = _request_state.get()
    if state is None or "catalog" not in state:
        snapshot = (_versions([LISTING], cache.get_many([_version_key(LISTING)]))[LISTING], _newest_ids())
        if state is not None:  # read once per page: one consistent state for all its parts
            state["catalog"] = snapshot
    else:
        snapshot = state["catalog"]
    full_key = COUNTS_PREFIX + hashlib.sha256(f"{snapshot}|{key}".encode()).hexdigest()
    found = cache.get(full_key)
    if found is None:
        found = compute()
        cache.set(full_key, found, timeout=seconds)
    return found


# --- Pages --------------------------------------------------------------------------------


def page_key(request: HttpRequest) -> str:
    query = urlencode(sorted(request.GET.lists()), doseq=True)
    raw = f"{get_language()}|{request.path}|{query}"
    return PAGE_PREFIX + hashlib.sha256(raw.encode()).hexdigest()


def _has_messages(request: HttpRequest) -> bool:
    if "messages" in request.COOKIES:
        return True
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        return bool(request.session.get("_messages"))
    return False


def _cacheable_request(request: HttpRequest) -> bool:
    return (
        settings.PAGE_CACHE_ENABLED
        and request.method in ("GET", "HEAD")
        and not getattr(request, "htmx", False)
        and not request.user.is_authenticated
        and not _has_messages(request)
    )


def _storable(request: HttpRequest, response: HttpResponse) -> bool:
    return (
        request.method == "GET"
        and response.status_code == 200
        and not getattr(response, "streaming", False)
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")  # the CSRF middleware would set one
        and not (hasattr(request, "session") and request.session.modified)
    )


def _listing_dependencies(request: HttpRequest, *args, **kwargs) -> list[str]:
    return [LISTING]


def page_cache(view: Callable | None = None, *, depends: Callable[..., list[str]] = _listing_dependencies):
    """Serve anonymous GETs of a catalog page from the cache. `depends(request, *args,
    **kwargs)` names the versions the page shows (default: the listing version)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            token = _request_state.set({})
            try:
                return serve(request, *args, **kwargs)
            finally:
                _request_state.reset(token)

        def serve(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not _cacheable_request(request):
                response = view(request, *args, **kwargs)
                response[HEADER] = "bypass"
                return response
            key = page_key(request)
            names = depends(request, *args, **kwargs)
            found = cache.get_many([key, *(_version_key(name) for name in names)])
            versions = {name: found.get(_version_key(name)) for name in names}
            missing = [name for name, version in versions.items() if version is None]
            entry = found.get(key)
            if entry is not None and not missing and entry["versions"] == versions:
                response = HttpResponse(entry["content"])
                for name, value in entry["headers"].items():
                    response[name] = value
                response[HEADER] = "hit"
                return response
            request.page_cache_active = True
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and callable(response.render):
                response = response.render()
            if _storable(request, response):
                if missing:
                    # First sight of this version: start it, and store the page next time (a
                    # version read after rendering could hide a change made meanwhile).
                    for name in missing:
                        cache.add(_version_key(name), _new_version(), timeout=VERSION_SECONDS)
                else:
                    entry = {
                        "versions": versions,
                        "content": response.content,
                        "headers": {name: response[name] for name in REPLAYED_HEADERS if name in response},
                    }
                    cache.set(key, entry, timeout=settings.PAGE_CACHE_SECONDS)
            response[HEADER] = "miss"
            return response

        return wrapped

    return decorate(view) if view is not None else decorate
