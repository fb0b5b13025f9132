"""What the page benchmark measures, read from the benchmark database.

    .venv/bin/python bench/targets.py count   -> number of demo products loaded
    .venv/bin/python bench/targets.py urls    -> one "name<TAB>path" line per page to measure

Pages: the bare Django view, the market listing, the most populated mid-level category, a
search in English and one in Chinese (two characters, as most Chinese words are), and the
page of the best-selling product. BENCH_SEARCH_EN / BENCH_SEARCH_ZH override the words.
"""

import os
import sys
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")

import django  # noqa: E402

django.setup()

from catalog.models import Category, Product  # noqa: E402
from catalog.selectors import product_visible_qs  # noqa: E402

SEARCH_EN = os.environ.get("BENCH_SEARCH_EN", "smartphone")
SEARCH_ZH = os.environ.get("BENCH_SEARCH_ZH", "绿茶")


def demo_product_count() -> int:
    return Product.objects.exclude(slug="bench-hot-product").count()


def busiest_mid_category() -> Category:
    mids = list(Category.objects.filter(depth=1))
    if not mids:
        raise SystemExit("no mid-level category: load the demo catalog first")
    visible = product_visible_qs()
    return max(mids, key=lambda mid: visible.filter(category__path__startswith=mid.path).count())


def urls() -> list[tuple[str, str]]:
    product = product_visible_qs().exclude(slug="bench-hot-product").order_by("-sold_count", "id").first()
    if product is None:
        raise SystemExit("no visible product: load the demo catalog first")
    return [
        ("bare", "/bench/bare/"),
        ("listing", "/products/"),
        ("category", f"/c/{busiest_mid_category().slug}/"),
        ("search_en", f"/search/?q={quote(SEARCH_EN)}"),
        ("search_zh", f"/search/?q={quote(SEARCH_ZH)}"),
        ("product", f"/p/{product.slug}/"),
    ]


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "urls"
    if what == "count":
        print(demo_product_count())
    elif what == "urls":
        for name, path in urls():
            print(f"{name}\t{path}")
    else:
        raise SystemExit(__doc__)
