"""Public catalog pages: home, market, category, search, product and shop pages.

Every page here is served from the page cache to anonymous visitors (catalog/cache.py).
"""

import functools
from decimal import Decimal

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie

from catalog import selectors
from catalog.cache import page_cache, product_page_dependency
from catalog.filters import SORT_CHOICES, ListingForm
from catalog.models import Category, Product
from catalog.pagination import ProductPaginator
from catalog.referrals import QUERY_PARAMETER, referral_code_for, referral_remember
from marketplace.errors import NotFound
from vendors.models import Vendor

PAGE_SIZE = 24
HOME_PRODUCTS = 12


def _url_with(query: QueryDict, **changes) -> str:
    """The query string with some parameters changed (None removes one); the page is reset."""
    query = query.copy()
    query.pop("page", None)
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


def _url_toggling(query: QueryDict, name: str, value: str) -> str:
    query = query.copy()
    query.pop("page", None)
    values = query.getlist(name)
    query.setlist(name, [v for v in values if v != value] if value in values else [*values, value])
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


def _listing_context(
    request: HttpRequest,
    *,
    category: Category | None = None,
    vendor: Vendor | None = None,
    searching: bool = False,
    categories: list[Category],
) -> dict:
    """Filter, sort, paginate and count: the shared body of every listing page."""
    form = ListingForm(request.GET)
    kwargs = form.listing_kwargs()
    if category is not None:
        kwargs["category"] = category
    if vendor is not None:
        kwargs["vendor"] = vendor
    default_sort = "relevance" if searching and kwargs["query"] else "newest"
    sort = form.cleaned_data.get("sort") or default_sort
    facets = selectors.product_facets(**kwargs, categories=categories, with_shops=vendor is None)
    paginator = ProductPaginator(selectors.product_list(**kwargs, sort=sort), PAGE_SIZE, count=facets.total)
    page = paginator.get_page(request.GET.get("page"))

    query = request.GET
    for shop in facets.shops:
        shop.url = _url_with(query, shop=None if shop.selected else shop.slug)
    for attribute in facets.attributes:
        for value in attribute.values:
            value.url = _url_toggling(query, "attr", value.slug)
    for child in facets.categories:
        if vendor is not None:
            child.url = _url_with(query, category=child.slug)
        else:
            child.url = f"/c/{child.slug}/" + _url_with(query, category=None).rstrip("?")
    sorts = [(value, label, _url_with(query, sort=value), value == sort) for value, label in SORT_CHOICES]
    if not (searching and kwargs["query"]):
        sorts = [s for s in sorts if s[0] != "relevance"]
    return {
        "form": form,
        "filters": kwargs,
        "page": page,
        "page_numbers": list(paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)),
        "products": page.object_list,
        "facets": facets,
        "sort": sort,
        "sorts": sorts,
        "in_stock_url": _url_with(query, in_stock=None if kwargs["in_stock"] else "1"),
        "clear_shop_url": _url_with(query, shop=None),
        "clear_url": "?" + (f"q={query.get('q')}" if searching and query.get("q") else ""),
    }


@page_cache
def home(request: HttpRequest) -> HttpResponse:
    categories = selectors.category_all()
    return render(
        request,
        "catalog/home.html",
        {
            "tree": selectors.category_tree(categories=categories, max_depth=2),
            "products": selectors.product_list(sort="newest")[:HOME_PRODUCTS],
            "shops": selectors.shops_featured(),
        },
    )


@page_cache
def market(request: HttpRequest) -> HttpResponse:
    categories = selectors.category_all()
    context = _listing_context(request, categories=categories)
    current = context["filters"]["category"]
    context.update(
        {
            "heading_kind": "market",
            "category": current,
            "breadcrumbs": selectors.category_ancestors(category=current, categories=categories) if current else [],
        }
    )
    return render(request, "catalog/listing.html", context)


@page_cache
def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    categories = selectors.category_all()
    category = next((c for c in categories if c.slug == slug), None)
    if category is None:
        raise Http404("Category not found.")
    context = _listing_context(request, category=category, categories=categories)
    context.update(
        {
            "heading_kind": "category",
            "category": category,
            "breadcrumbs": selectors.category_ancestors(category=category, categories=categories),
        }
    )
    return render(request, "catalog/listing.html", context)


@page_cache
def search(request: HttpRequest) -> HttpResponse:
    categories = selectors.category_all()
    context = _listing_context(request, searching=True, categories=categories)
    context.update({"heading_kind": "search", "query": context["filters"]["query"] or ""})
    return render(request, "catalog/listing.html", context)


def _percent(rate: Decimal) -> str:
    """0.0500 -> "5%", 0.1250 -> "12.5%"; "" for zero."""
    if not rate:
        return ""
    return f"{rate * 100:f}".rstrip("0").rstrip(".") + "%"


def _referral_capture(view):
    """A shared link (?ref=<code>) is remembered before the page cache answers, so a cached
    page still records who shared it (the session change then keeps this response uncached)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, slug: str) -> HttpResponse:
        code = request.GET.get(QUERY_PARAMETER)
        if code:
            product_id = Product.objects.filter(slug=slug).values_list("pk", flat=True).first()
            if product_id is not None:
                referral_remember(session=request.session, product_id=product_id, code=code)
        return view(request, slug)

    return wrapped


@_referral_capture
@page_cache(depends=lambda request, slug: [product_page_dependency(slug)])
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        product = selectors.product_detail_get(slug=slug)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    variants = product.active_variants
    return render(
        request,
        "catalog/product_detail.html",
        {
            "product": product,
            "variants": variants,
            "images": product.image_list,
            "breadcrumbs": selectors.category_loaded_ancestors(category=product.category),
            "any_in_stock": any(v.stock > 0 for v in variants),
            "first_available": next((v for v in variants if v.stock > 0), None),
            # Signed-in visitors (never served from the cache) get their own link to share.
            "referral_code": referral_code_for(request.user) if request.user.is_authenticated else "",
            "referral_percent": _percent(min(product.referral_rate, settings.REFERRAL_RATE_MAX)),
        },
    )


@page_cache
def shop_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        vendor = selectors.shop_get(slug=slug)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    categories = selectors.category_all()
    context = _listing_context(request, vendor=vendor, categories=categories)
    context.update(
        {
            "shop": vendor,
            "categories_used": selectors.shop_categories_used(vendor=vendor, categories=categories),
        }
    )
    return render(request, "catalog/shop_detail.html", context)


@never_cache
@ensure_csrf_cookie
def csrf_cookie(request: HttpRequest) -> HttpResponse:
    """Sets the csrftoken cookie for pages served from the cache (static/js/csrf.js)."""
    return HttpResponse(status=204)
