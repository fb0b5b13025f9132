"""The denormalised product fields listings read (price range, total stock, cover thumbnail,
search document), recomputed set-wise after every write that can change them."""

import html
from collections import defaultdict
from collections.abc import Iterable

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import DecimalField, IntegerField, Max, Min, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.html import strip_tags

from catalog.cache import products_changed
from catalog.models import Product, ProductImage, ProductVariant
from catalog.search import search_document_for, search_refresh

BATCH_SIZE = 1000


def _active_variants_aggregate(aggregate, output_field):
    per_product = (
        ProductVariant.objects.filter(product=OuterRef("pk"), is_active=True)
        .order_by()
        .values("product")
        .annotate(result=aggregate)
        .values("result")
    )
    return Coalesce(Subquery(per_product, output_field=output_field), Value(0), output_field=output_field)


def _plain_text(description: str | None) -> str:
    return html.unescape(strip_tags(description or "")).strip()


@transaction.atomic
def product_refresh_derived(*, product_ids: Iterable[int]) -> None:
    """Recompute min/max price and total stock over active variants, the cover thumbnail (first
    image) and the search document for these products, then refresh their search vectors and
    invalidate cached pages. A constant number of queries per batch of 1,000 products."""
    ids = sorted({int(product_id) for product_id in product_ids})
    for start in range(0, len(ids), BATCH_SIZE):
        _refresh_batch(ids[start : start + BATCH_SIZE])


def _refresh_batch(ids: list[int]) -> None:
    money = DecimalField(max_digits=14, decimal_places=2)
    Product.objects.filter(pk__in=ids).update(
        min_price=_active_variants_aggregate(Min("price"), money),
        max_price=_active_variants_aggregate(Max("price"), money),
        total_stock=_active_variants_aggregate(Sum("stock"), IntegerField()),
    )

    skus: dict[int, list[str]] = defaultdict(list)
    for product_id, sku in (
        ProductVariant.objects.filter(product_id__in=ids, is_active=True)
        .order_by("product_id", "position", "id")
        .values_list("product_id", "sku")
    ):
        skus[product_id].append(sku)

    covers: dict[int, str] = {}
    for product_id, thumbnail, original in (
        ProductImage.objects.filter(product_id__in=ids)
        .order_by("product_id", "position", "id")
        .values_list("product_id", "thumbnail", "image")
    ):
        if product_id not in covers:
            covers[product_id] = default_storage.url(thumbnail or original)

    updated = []
    for row in Product.objects.filter(pk__in=ids).values(
        "pk",
        "title_en",
        "title_zh_hans",
        "description_en",
        "description_zh_hans",
        "vendor__name_en",
        "vendor__name_zh_hans",
    ):
        document = search_document_for(
            titles=[title for title in (row["title_en"], row["title_zh_hans"]) if title],
            descriptions=[
                text for text in (_plain_text(row["description_en"]), _plain_text(row["description_zh_hans"])) if text
            ],
            vendor_names=[name for name in (row["vendor__name_en"], row["vendor__name_zh_hans"]) if name],
            skus=skus.get(row["pk"], []),
        )
        updated.append(Product(pk=row["pk"], cover_thumbnail=covers.get(row["pk"], ""), search_document=document))
    Product.objects.bulk_update(updated, ["cover_thumbnail", "search_document"])
    search_refresh(product_ids=ids)
    products_changed(product_ids=ids)
