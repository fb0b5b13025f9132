"""Reads of the catalog. What shoppers can see is decided here, once.

`product_list` is the one listing query behind every page and the public API; `product_facets`
counts the same filtered set by shop, category, attribute value and stock.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import BooleanField, Case, Count, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.utils.translation import get_language, gettext

from catalog.models import Attribute, AttributeValue, Category, Product, ProductImage, ProductVariant
from catalog.search import search_filter
from marketplace.errors import NotFound
from vendors.models import Vendor

# A product is on sale when it is active, not banned, and its shop is active.
VISIBLE_PRODUCT = Q(status=Product.Status.ACTIVE, is_banned=False, vendor__status=Vendor.Status.ACTIVE)

SORTS = ("newest", "price", "-price", "best_selling", "relevance")
FACET_SHOP_LIMIT = 20
MAX_ATTRIBUTE_FILTERS = 10
# Columns a listing card never shows: the long texts and the search data.
LISTING_DEFERRED = ("description", "search_document", "search_vector", "search_rank_vector", "ban_reason")


def product_visible_qs() -> QuerySet[Product]:
    return Product.objects.filter(VISIBLE_PRODUCT)


def variant_orderable_qs() -> QuerySet[ProductVariant]:
    """Variants a buyer may put in the cart or order (stock is checked separately)."""
    return ProductVariant.objects.filter(
        is_active=True,
        product__status=Product.Status.ACTIVE,
        product__is_banned=False,
        product__vendor__status=Vendor.Status.ACTIVE,
    )


def _in_stock() -> Q:
    """In stock: an active variant has stock. `total_stock` is the sum of the active variants'
    stock, kept by catalog services and the order services' stock updates, so this is one
    column test instead of a variant subquery per product."""
    return Q(total_stock__gt=0)


def _parse_attribute_slug(slug: str) -> tuple[str | None, str]:
    """ "colour:red" names a value of one attribute; a bare "red" any attribute's value "red"."""
    attribute, _, value = slug.rpartition(":")
    return (attribute or None), value


def _category_filter(category: Category) -> Q:
    if not category.path:  # not placed in the tree yet: itself only
        return Q(category_id=category.pk)
    return Q(category_id__in=Category.objects.filter(path__startswith=category.path).values("id"))


@dataclass(frozen=True)
class ProductFilters:
    """The filters shared by pages and the API (see catalog/filters.py for parsing)."""

    query: str | None = None
    category: Category | None = None
    vendor: Vendor | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    attribute_value_slugs: tuple[str, ...] = field(default_factory=tuple)
    in_stock: bool = False

    def apply(self, queryset: QuerySet[Product], *, skip: frozenset[str] = frozenset()) -> QuerySet[Product]:
        if self.category is not None and "category" not in skip:
            queryset = queryset.filter(_category_filter(self.category))
        if self.vendor is not None and "vendor" not in skip:
            queryset = queryset.filter(vendor_id=self.vendor.pk)
        if self.min_price is not None:
            queryset = queryset.filter(min_price__gte=self.min_price)
        if self.max_price is not None:
            queryset = queryset.filter(min_price__lte=self.max_price)
        if "attributes" not in skip:
            for slug in self.attribute_value_slugs[:MAX_ATTRIBUTE_FILTERS]:
                attribute, value = _parse_attribute_slug(slug)
                variants = ProductVariant.objects.filter(
                    product=OuterRef("pk"), is_active=True, attribute_values__slug=value
                )
                if attribute:
                    variants = variants.filter(attribute_values__attribute__slug=attribute)
                queryset = queryset.filter(Exists(variants))
        if self.in_stock and "in_stock" not in skip:
            queryset = queryset.filter(_in_stock())
        if self.query and self.query.strip():
            queryset = search_filter(queryset, self.query)
        return queryset


def product_list(
    *,
    query: str | None = None,
    category: Category | None = None,
    vendor: Vendor | None = None,
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    attribute_value_slugs: list[str] | tuple[str, ...] = (),
    in_stock: bool = False,
    sort: str = "newest",
) -> QuerySet[Product]:
    """Visible products matching the filters, sorted, ready for a listing card: shop joined,
    long texts deferred, `has_stock` annotated. The category filter includes its subtree; a
    query adds `search_rank`; "relevance" sorts by it (newest when there is no query)."""
    filters = ProductFilters(
        query=query,
        category=category,
        vendor=vendor,
        min_price=min_price,
        max_price=max_price,
        attribute_value_slugs=tuple(attribute_value_slugs or ()),
        in_stock=in_stock,
    )
    queryset = filters.apply(product_visible_qs())
    queryset = (
        queryset.select_related("vendor")
        .defer(*LISTING_DEFERRED)
        .annotate(
            has_stock=Case(When(total_stock__gt=0, then=Value(True)), default=Value(False), output_field=BooleanField())
        )
    )
    searching = bool(query and query.strip())
    if sort == "relevance" and not searching:
        sort = "newest"
    ordering = {
        "newest": ["-created_at", "-id"],
        "price": ["min_price", "-id"],
        "-price": ["-min_price", "-id"],
        "best_selling": ["-sold_count", "-id"],
        "relevance": [F("search_rank").desc(nulls_last=True), "-sold_count", "-id"],
    }.get(sort, ["-created_at", "-id"])
    return queryset.order_by(*ordering)


def product_search(*, query: str, sort: str = "relevance", **filters) -> QuerySet[Product]:
    """Search: `product_list` with a query, most relevant first by default."""
    return product_list(query=query, sort=sort, **filters)


# --- Categories --------------------------------------------------------------------------


def category_all_qs() -> QuerySet[Category]:
    return Category.objects.order_by("path", "id")


def category_all() -> list[Category]:
    """The whole tree in display order (a few hundred rows; one query, or none when cached
    with the listing data)."""
    from catalog.cache import listing_data_cached

    return listing_data_cached("categories", lambda: list(category_all_qs()))


def category_get(*, slug: str) -> Category:
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        raise NotFound(gettext("Category not found."))
    return category


def category_ancestors(*, category: Category, categories: list[Category]) -> list[Category]:
    """The category's ancestors, root first, then itself (for breadcrumbs)."""
    by_id = {c.pk: c for c in categories}
    chain = [category]
    parent_id = category.parent_id
    while parent_id is not None and parent_id in by_id and len(chain) < 20:
        chain.append(by_id[parent_id])
        parent_id = by_id[parent_id].parent_id
    return list(reversed(chain))


def category_loaded_ancestors(*, category: Category) -> list[Category]:
    """The category and those of its ancestors already loaded with it (select_related), root
    first: breadcrumbs without a query."""
    chain = [category]
    node = category
    while node.parent_id is not None and Category.parent.is_cached(node):
        node = node.parent
        chain.append(node)
    return list(reversed(chain))


def category_children(*, parent: Category | None, categories: list[Category]) -> list[Category]:
    parent_id = parent.pk if parent else None
    return [c for c in categories if c.parent_id == parent_id]


def category_tree(*, categories: list[Category], max_depth: int = 2) -> list[dict]:
    """Nested [{"category", "children": [...]}] down to max_depth levels."""
    by_parent: dict[int | None, list[Category]] = {}
    for category in categories:
        by_parent.setdefault(category.parent_id, []).append(category)

    def build(parent_id: int | None, level: int) -> list[dict]:
        if level >= max_depth:
            return []
        return [{"category": c, "children": build(c.pk, level + 1)} for c in by_parent.get(parent_id, [])]

    return build(None, 0)


# --- Facets -------------------------------------------------------------------------------


@dataclass
class FacetValue:
    slug: str
    label: str
    count: int
    selected: bool = False
    obj: object = None
    url: str = ""


@dataclass
class AttributeFacet:
    slug: str
    name: str
    values: list[FacetValue]


@dataclass
class Facets:
    total: int
    shops: list[FacetValue]
    categories: list[FacetValue]
    attributes: list[AttributeFacet]
    in_stock: int


@dataclass(frozen=True)
class ListingCounts:
    """The numbers behind a listing's facets, with the labels in every language (so that one
    cached copy serves every language and showing it needs no query)."""

    total: int
    in_stock: int
    # (vendor id, slug, {language: name}, count), the shop filter left out
    shops: tuple[tuple[int, str, dict[str, str], int], ...]
    categories: dict[int, int]  # category id -> count (the category itself, not its subtree)
    # (value id, "attribute:value" slug, value slug, {language: value}, attribute slug,
    #  {language: attribute name}, count)
    attribute_values: tuple[tuple, ...]


def _names(row: dict, field: str) -> dict[str, str]:
    return {code: row[f"{field}_{code.replace('-', '_')}"] or "" for code, _name in settings.LANGUAGES}


def translated(names: dict[str, str]) -> str:
    """The name in the current language, else in the first fallback language that has one."""
    language = get_language() or settings.LANGUAGE_CODE
    for code in (language, *getattr(settings, "MODELTRANSLATION_FALLBACK_LANGUAGES", ())):
        if names.get(code):
            return names[code]
    return next((name for name in names.values() if name), "")


def _listing_counts(filters: ProductFilters) -> ListingCounts:
    """Four queries: one GROUP BY (shop, category, in stock) over the set without the shop
    and stock filters gives the total, the in-stock count, the shop and category counts; one
    counts attribute values over the current set; two read the labels."""
    in_stock_flag = Case(When(total_stock__gt=0, then=Value(True)), default=Value(False), output_field=BooleanField())
    rows = (
        filters.apply(product_visible_qs(), skip=frozenset({"vendor", "in_stock"}))
        .order_by()
        .annotate(stocked=in_stock_flag)
        .values_list("vendor_id", "category_id", "stocked")
        .annotate(n=Count("id"))
    )
    vendor_id = filters.vendor.pk if filters.vendor is not None else None
    total = in_stock = 0
    shops: dict[int, int] = {}
    categories: dict[int, int] = {}
    for row_vendor, row_category, stocked, n in rows:
        if not filters.in_stock or stocked:
            shops[row_vendor] = shops.get(row_vendor, 0) + n
        if vendor_id is not None and row_vendor != vendor_id:
            continue
        if stocked:
            in_stock += n
        if filters.in_stock and not stocked:
            continue
        total += n
        categories[row_category] = categories.get(row_category, 0) + n

    top_shops = sorted(shops.items(), key=lambda item: (-item[1], item[0]))[:FACET_SHOP_LIMIT]
    shop_rows = {
        row["id"]: row
        for row in Vendor.objects.filter(pk__in=[pk for pk, _n in top_shops]).values(
            "id", "slug", *(f"name_{code.replace('-', '_')}" for code, _name in settings.LANGUAGES)
        )
    }
    shop_facets = tuple(
        (pk, shop_rows[pk]["slug"], _names(shop_rows[pk], "name"), n) for pk, n in top_shops if pk in shop_rows
    )

    current = filters.apply(product_visible_qs()).order_by().values("id")
    value_counts = dict(
        ProductVariant.attribute_values.through.objects.filter(
            productvariant__is_active=True, productvariant__product_id__in=current
        )
        .order_by()
        .values_list("attributevalue_id")
        .annotate(n=Count("productvariant__product_id", distinct=True))
    )
    languages = [code.replace("-", "_") for code, _name in settings.LANGUAGES]
    value_rows = (
        AttributeValue.objects.filter(pk__in=list(value_counts))
        .values(
            "id",
            "slug",
            "attribute__slug",
            *(f"value_{code}" for code in languages),
            *(f"attribute__name_{code}" for code in languages),
        )
        .order_by("attribute__slug", "slug")
        if value_counts
        else []
    )
    attribute_values = tuple(
        (
            row["id"],
            f"{row['attribute__slug']}:{row['slug']}",
            row["slug"],
            _names(row, "value"),
            row["attribute__slug"],
            _names(row, "attribute__name"),
            value_counts[row["id"]],
        )
        for row in value_rows
    )
    return ListingCounts(
        total=total, in_stock=in_stock, shops=shop_facets, categories=categories, attribute_values=attribute_values
    )


def listing_counts(filters: ProductFilters) -> ListingCounts:
    """The facet numbers of a filtered set; cached under the catalog's listing version when
    settings.CATALOG_COUNTS_CACHE_SECONDS is set (exact: any product change moves the version)."""
    from catalog.cache import listing_data_cached

    key = "|".join(
        [
            (filters.query or "").strip().lower(),
            str(filters.category.pk if filters.category else ""),
            str(filters.vendor.pk if filters.vendor else ""),
            str(filters.min_price if filters.min_price is not None else ""),
            str(filters.max_price if filters.max_price is not None else ""),
            ",".join(sorted(filters.attribute_value_slugs[:MAX_ATTRIBUTE_FILTERS])),
            "1" if filters.in_stock else "",
        ]
    )
    return listing_data_cached("counts|" + key, lambda: _listing_counts(filters))


def product_facets(
    *,
    query: str | None = None,
    category: Category | None = None,
    vendor: Vendor | None = None,
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    attribute_value_slugs: list[str] | tuple[str, ...] = (),
    in_stock: bool = False,
    categories: list[Category] | None = None,
    with_shops: bool = True,
) -> Facets:
    """Counts for the current filtered set: the total, by child category (of the current
    category, or the roots), by attribute value and in stock. Shop counts leave the shop
    filter out, so the other shops stay visible as alternatives. Four queries (one more
    without `categories`); none when the counts come from the cache."""
    filters = ProductFilters(
        query=query,
        category=category,
        vendor=vendor,
        min_price=min_price,
        max_price=max_price,
        attribute_value_slugs=tuple(attribute_value_slugs or ()),
        in_stock=in_stock,
    )
    counts = listing_counts(filters)
    if categories is None:
        categories = category_all()

    shops = [
        FacetValue(slug=slug, label=translated(names), count=n, selected=vendor is not None and vendor.pk == pk)
        for pk, slug, names, n in (counts.shops if with_shops else ())
    ]

    category_facets = []
    for child in category_children(parent=category, categories=categories):
        if child.path:
            count = sum(counts.categories.get(c.pk, 0) for c in categories if c.path.startswith(child.path))
        else:
            count = counts.categories.get(child.pk, 0)
        if count:
            category_facets.append(FacetValue(slug=child.slug, label=child.name, count=count, obj=child))

    selected = set(filters.attribute_value_slugs)
    attributes: dict[str, AttributeFacet] = {}
    for _pk, slug, value_slug, value_names, attribute_slug, attribute_names, n in counts.attribute_values:
        facet = attributes.setdefault(
            attribute_slug, AttributeFacet(slug=attribute_slug, name=translated(attribute_names), values=[])
        )
        facet.values.append(
            FacetValue(
                slug=slug, label=translated(value_names), count=n, selected=slug in selected or value_slug in selected
            )
        )
    for facet in attributes.values():
        facet.values.sort(key=lambda value: value.label)
    return Facets(
        total=counts.total,
        shops=shops,
        categories=category_facets,
        attributes=list(attributes.values()),
        in_stock=counts.in_stock,
    )


# --- One product, shops, home ----------------------------------------------------------------


def product_detail_get(*, slug: str | None = None, product_id: int | None = None) -> Product:
    """A visible product with its shop, category (and two levels of its ancestors), its active
    variants as `active_variants` (each with `attribute_list`, its attribute values) and its
    images as `image_list`, in four queries. Hidden, banned or suspended-shop products are
    NotFound. (Read by hand rather than with nested prefetch_related: this is the hottest
    page of the market, and the prefetch machinery cost more than the queries.)"""
    lookup = {"slug": slug} if slug is not None else {"pk": product_id}
    found = list(
        product_visible_qs()
        .select_related("vendor", "category__parent__parent")
        .defer("search_document", "search_vector", "search_rank_vector")
        .filter(**lookup)
        .order_by()[:1]
    )
    if not found:
        raise NotFound(gettext("Product not found."))
    product = found[0]
    variants = list(ProductVariant.objects.filter(product=product, is_active=True))
    values: dict[int, list[AttributeValue]] = {variant.pk: [] for variant in variants}
    if variants:
        links = (
            ProductVariant.attribute_values.through.objects.filter(productvariant_id__in=list(values))
            .select_related("attributevalue__attribute")
            .order_by("attributevalue__attribute_id", "attributevalue__value")
        )
        for link in links:
            values[link.productvariant_id].append(link.attributevalue)
    for variant in variants:
        variant.attribute_list = values[variant.pk]
    product.active_variants = variants
    product.image_list = list(ProductImage.objects.filter(product=product).order_by("position", "id"))
    return product


def shop_list() -> QuerySet[Vendor]:
    return Vendor.objects.filter(status=Vendor.Status.ACTIVE).order_by("name", "id")


def shop_get(*, slug: str) -> Vendor:
    vendor = shop_list().filter(slug=slug).first()
    if vendor is None:
        raise NotFound(gettext("Shop not found."))
    return vendor


def shop_categories_used(*, vendor: Vendor, categories: list[Category]) -> list[FacetValue]:
    """The categories the shop's visible products are in, with counts."""
    counts = dict(
        product_visible_qs().filter(vendor=vendor).order_by().values_list("category_id").annotate(n=Count("id"))
    )
    return [FacetValue(slug=c.slug, label=c.name, count=counts[c.pk], obj=c) for c in categories if c.pk in counts]


def shops_featured(*, limit: int = 8) -> list[Vendor]:
    """The newest active shops (for the home page)."""
    return list(shop_list().order_by("-created_at", "-id")[:limit])


def attribute_list() -> QuerySet[Attribute]:
    return Attribute.objects.prefetch_related("values")
