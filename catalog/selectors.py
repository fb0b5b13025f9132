"""Reads of the catalog. What shoppers can see is decided here, once.

`product_list` is the one listing query behind every page and the public API; `product_facets`
counts the same filtered set by shop, category, attribute value and stock.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet

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
LISTING_DEFERRED = ("description", "search_document", "search_vector", "ban_reason")


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


def _in_stock() -> Exists:
    return Exists(ProductVariant.objects.filter(product=OuterRef("pk"), is_active=True, stock__gt=0))


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
    queryset = queryset.select_related("vendor").defer(*LISTING_DEFERRED).annotate(has_stock=_in_stock())
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
    """The whole tree in display order (a few hundred rows; one query)."""
    return list(category_all_qs())


def category_get(*, slug: str) -> Category:
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        raise NotFound("Category not found.")
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
    shops: list[FacetValue]
    categories: list[FacetValue]
    attributes: list[AttributeFacet]
    in_stock: int


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
    """Counts for the current filtered set: by child category (of the current category, or the
    roots), by attribute value and in stock. Shop counts leave the shop filter out, so the
    other shops stay visible as alternatives. A fixed number of queries (at most 5, one more
    without `categories`)."""
    filters = ProductFilters(
        query=query,
        category=category,
        vendor=vendor,
        min_price=min_price,
        max_price=max_price,
        attribute_value_slugs=tuple(attribute_value_slugs or ()),
        in_stock=in_stock,
    )
    current = filters.apply(product_visible_qs())
    if categories is None:
        categories = category_all()

    shop_rows = (
        []
        if not with_shops
        else list(
            filters.apply(product_visible_qs(), skip=frozenset({"vendor"}))
            .order_by()
            .values("vendor_id")
            .annotate(n=Count("id"))
            .order_by("-n", "vendor_id")[:FACET_SHOP_LIMIT]
        )
    )
    vendors = Vendor.objects.in_bulk([row["vendor_id"] for row in shop_rows]) if shop_rows else {}
    shops = [
        FacetValue(
            slug=vendors[row["vendor_id"]].slug,
            label=vendors[row["vendor_id"]].name,
            count=row["n"],
            selected=vendor is not None and vendor.pk == row["vendor_id"],
            obj=vendors[row["vendor_id"]],
        )
        for row in shop_rows
        if row["vendor_id"] in vendors
    ]

    per_category = dict(current.order_by().values_list("category_id").annotate(n=Count("id")))
    children = category_children(parent=category, categories=categories)
    category_facets = []
    for child in children:
        if child.path:
            count = sum(per_category.get(c.pk, 0) for c in categories if c.path.startswith(child.path))
        else:
            count = per_category.get(child.pk, 0)
        if count:
            category_facets.append(FacetValue(slug=child.slug, label=child.name, count=count, obj=child))

    selected = set(filters.attribute_value_slugs)
    values = (
        AttributeValue.objects.filter(
            variants__is_active=True, variants__product_id__in=current.order_by().values("id")
        )
        .select_related("attribute")
        .annotate(n=Count("variants__product_id", distinct=True))
        .order_by("attribute__slug", "value")
    )
    attributes: dict[int, AttributeFacet] = {}
    for value in values:
        facet = attributes.setdefault(
            value.attribute_id, AttributeFacet(slug=value.attribute.slug, name=value.attribute.name, values=[])
        )
        slug = f"{value.attribute.slug}:{value.slug}"
        facet.values.append(
            FacetValue(slug=slug, label=value.value, count=value.n, selected=slug in selected or value.slug in selected)
        )

    in_stock_count = filters.apply(product_visible_qs(), skip=frozenset({"in_stock"})).filter(_in_stock()).count()
    return Facets(
        shops=shops, categories=category_facets, attributes=list(attributes.values()), in_stock=in_stock_count
    )


# --- One product, shops, home ----------------------------------------------------------------


def product_detail_get(*, slug: str | None = None, product_id: int | None = None) -> Product:
    """A visible product with its shop, category, active variants (with attribute values) and
    images, in four queries. Hidden, banned or suspended-shop products are NotFound."""
    lookup = {"slug": slug} if slug is not None else {"pk": product_id}
    product = (
        product_visible_qs()
        .select_related("vendor", "category")
        .defer("search_document", "search_vector")
        .prefetch_related(
            Prefetch(
                "variants",
                queryset=ProductVariant.objects.filter(is_active=True).prefetch_related(
                    Prefetch("attribute_values", queryset=AttributeValue.objects.select_related("attribute"))
                ),
                to_attr="active_variants",
            ),
            Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")),
        )
        .filter(**lookup)
        .first()
    )
    if product is None:
        raise NotFound("Product not found.")
    return product


def product_id_for_slug(*, slug: str) -> int | None:
    return Product.objects.filter(slug=slug).values_list("id", flat=True).first()


def shop_list() -> QuerySet[Vendor]:
    return Vendor.objects.filter(status=Vendor.Status.ACTIVE).order_by("name", "id")


def shop_get(*, slug: str) -> Vendor:
    vendor = shop_list().filter(slug=slug).first()
    if vendor is None:
        raise NotFound("Shop not found.")
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
