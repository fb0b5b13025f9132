"""Page cache for the public catalog, with invalidation by version counters.

A cached page is stored with a snapshot of the versions it depends on: the catalog-wide
listing version (every listing, search, category, shop and home page) or one product's version
(its product page). Services call `products_changed` inside the transaction that changed a
price, stock or product content; after commit the versions move on, and every stored page
whose snapshot no longer matches is a miss. Nothing has to be found and deleted.

Only anonymous GETs are cached, and never a response that sets a cookie or shows messages.
A cached page must not carry one visitor's CSRF token: while a page is being rendered for
the cache, `request.page_cache_active` is set, templates leave the token out, and
static/js/csrf.js fills it in the browser from the `csrftoken` cookie.
"""

import functools
import hashlib
import time
from collections.abc import Callable, Iterable
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
HEADER = "X-Page-Cache"


def _version_key(name: str) -> str:
    return VERSION_PREFIX + name


def product_dependency(product_id: int) -> str:
    return f"product:{product_id}"


def _new_version() -> int:
    return time.time_ns()


def _bump(names: Iterable[str]) -> None:
    version = _new_version()
    cache.set_many({_version_key(name): version for name in names}, timeout=None)


def products_changed(*, product_ids: Iterable[int]) -> None:
    """Call inside the transaction that changed price, stock or product content; the cached
    pages that show these products are invalidated after commit."""
    names = [LISTING, *(product_dependency(int(pid)) for pid in set(product_ids))]
    transaction.on_commit(lambda: _bump(names))


def catalog_changed() -> None:
    """Invalidate every listing page after commit (categories, shops, anything catalog-wide)."""
    transaction.on_commit(lambda: _bump([LISTING]))


# --- Listing counts -----------------------------------------------------------------------

COUNTS_PREFIX = "catalog:counts:"


def counts_cached(key: str, compute: Callable[[], T]) -> T:
    """The facet counts of a filtered set, computed once per catalog state and kept for
    settings.CATALOG_COUNTS_CACHE_SECONDS (default 300; 0 turns it off). Counting a whole
    market by shop, category and attribute takes far longer than showing a page of it.

    Never stale: the key holds the listing version (moved after every committed product
    change) and the highest product id (so rows inserted without services still count).
    Never used inside a transaction: what it sees may not be committed."""
    seconds = getattr(settings, "CATALOG_COUNTS_CACHE_SECONDS", 300)
    if not seconds or connection.in_atomic_block:
        return compute()
    from catalog.models import Product

    version = _current_versions([LISTING])[LISTING]
    newest = Product.objects.order_by("-pk").values_list("pk", flat=True).first()
    full_key = COUNTS_PREFIX + hashlib.sha256(f"{version}|{newest}|{key}".encode()).hexdigest()
    found = cache.get(full_key)
    if found is None:
        found = compute()
        cache.set(full_key, found, timeout=seconds)
    return found


# --- Reading and writing pages ------------------------------------------------------------


def _current_versions(names: Iterable[str]) -> dict[str, int]:
    """Current version of each name; a missing counter is created, so that it can be compared."""
    names = list(names)
    found = cache.get_many([_version_key(n) for n in names])
    versions: dict[str, int] = {}
    for name in names:
        value = found.get(_version_key(name))
        if value is None:
            cache.add(_version_key(name), _new_version(), timeout=None)
            value = cache.get(_version_key(name))
        versions[name] = value
    return versions


def page_key(request: HttpRequest) -> str:
    query = urlencode(sorted(request.GET.lists()), doseq=True)
    raw = f"{get_language()}|{request.path}|{query}"
    return PAGE_PREFIX + hashlib.sha256(raw.encode()).hexdigest()


def page_depends_on(request: HttpRequest, *names: str) -> None:
    """Declare what the page being rendered shows. Call it BEFORE reading those rows: the
    version is read now, so a change committed while we render leaves the stored page stale
    on arrival, and it is never served."""
    snapshot = getattr(request, "_page_cache_versions", None)
    if snapshot is None:
        return
    snapshot.update(_current_versions(n for n in names if n not in snapshot))


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


def _cached_response(key: str) -> HttpResponse | None:
    found = cache.get_many([key, _version_key(LISTING)])
    entry = found.get(key)
    if entry is None:
        return None
    snapshot: dict[str, int] = entry["versions"]
    others = [name for name in snapshot if name != LISTING]
    current = {LISTING: found.get(_version_key(LISTING))}
    if others:
        values = cache.get_many([_version_key(n) for n in others])
        current.update({n: values.get(_version_key(n)) for n in others})
    if any(current.get(name) != version for name, version in snapshot.items()):
        return None
    response = HttpResponse(entry["content"], content_type=entry["content_type"])
    response[HEADER] = "hit"
    return response


def page_cache(view: Callable) -> Callable:
    """Serve anonymous GETs of a catalog page from the cache. The page depends on the listing
    version, unless the view is marked `@declares_dependencies` and calls `page_depends_on`."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _cacheable_request(request):
            response = view(request, *args, **kwargs)
            response[HEADER] = "bypass"
            return response
        key = page_key(request)
        cached = _cached_response(key)
        if cached is not None:
            return cached
        request.page_cache_active = True
        request._page_cache_versions = {}
        if not getattr(view, "page_cache_declares_dependencies", False):
            page_depends_on(request, LISTING)
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        snapshot = request._page_cache_versions
        if (
            response.status_code == 200
            and not response.cookies
            and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
            and not (hasattr(request, "session") and request.session.modified)
            and not getattr(response, "streaming", False)
            and snapshot
            and request.method == "GET"
        ):
            cache.set(
                key,
                {"versions": snapshot, "content": response.content, "content_type": response["Content-Type"]},
                timeout=settings.PAGE_CACHE_SECONDS,
            )
        response[HEADER] = "miss"
        return response

    return wrapped


def declares_dependencies(view: Callable) -> Callable:
    """Mark a view that calls `page_depends_on` itself (a product page depends on its product,
    not on every listing)."""
    view.page_cache_declares_dependencies = True
    return view
