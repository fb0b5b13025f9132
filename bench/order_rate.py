"""Orders per second on ONE hot variant, placed by concurrent buyers through the order service.

    DATABASE_URL=postgres://... .venv/bin/python bench/order_rate.py [--threads 16] [--seconds 10]

Each thread has its own database connection and its own pool of buyers, each with an address
and a cart holding the hot variant (prepared in bulk before the clock starts, so the timed loop
is nothing but `order_place` calls). At the end the stock is audited: the units on the order
lines placed in this run must equal the stock that left the variant, or the run fails.
With --pgbench, PostgreSQL's own rate for the minimal equivalent transaction (conditional
UPDATE of one hot row + one INSERT, 16 clients) is measured with pgbench for scale.

A benchmark, not a test: it prints figures and exits non-zero only if stock was oversold or
the books do not add up.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.db.models import Sum  # noqa: E402

from catalog.categories import category_rebuild_paths  # noqa: E402
from catalog.models import Category, Product, ProductVariant  # noqa: E402
from marketplace.models import User  # noqa: E402
from orders.models import Address, Cart, CartLine, Order, OrderLine  # noqa: E402
from orders.services.checkout import order_place  # noqa: E402
from vendors.models import LegalKind, ShippingTemplate, ShopType, Vendor  # noqa: E402

HOT_SHOP = "bench-hot-shop"
HOT_PRODUCT = "bench-hot-product"
HOT_SKU = "BENCH-HOT-1"
PRICE = Decimal("9.90")


def hot_variant_prepare(*, stock: int) -> ProductVariant:
    """The hot variant (its own shop, free shipping), with its stock reset to `stock`."""
    vendor, _ = Vendor.objects.get_or_create(
        slug=HOT_SHOP,
        defaults={
            "name_en": "Bench Hot Shop",
            "name_zh_hans": "压测热卖店",
            "legal_kind": LegalKind.BUSINESS,
            "shop_type": ShopType.BRAND,
            "contact_email": "hot@bench.shequn.test",
        },
    )
    ShippingTemplate.objects.get_or_create(
        vendor=vendor, is_default=True, defaults={"name": "包邮 Free", "base_fee": 0, "per_item_fee": 0}
    )
    category = Category.objects.filter(children__isnull=True).order_by("path").first()
    if category is None:
        category = Category.objects.create(slug="bench", name_en="Bench", name_zh_hans="压测")
        category_rebuild_paths()
    product, _ = Product.objects.get_or_create(
        slug=HOT_PRODUCT,
        defaults={
            "vendor": vendor,
            "category": category,
            "title_en": "Bench hot item",
            "title_zh_hans": "压测爆款",
            "status": Product.Status.ACTIVE,
            "min_price": PRICE,
            "max_price": PRICE,
        },
    )
    variant, _ = ProductVariant.objects.get_or_create(
        vendor=vendor, sku=HOT_SKU, defaults={"product": product, "name": "默认 Default", "price": PRICE}
    )
    ProductVariant.objects.filter(pk=variant.pk).update(stock=stock, price=PRICE, is_active=True)
    Product.objects.filter(pk=product.pk).update(total_stock=stock, status=Product.Status.ACTIVE, is_banned=False)
    variant.refresh_from_db()
    return variant


def buyers_prepare(*, run: str, variant: ProductVariant, threads: int, per_thread: int) -> list[list[tuple]]:
    """threads x per_thread buyers, each with an address and a cart holding one unit of the
    hot variant, in a few bulk inserts. Returns [[(buyer, cart, address), ...] per thread]."""
    password = make_password(None)  # unusable: these accounts never log in
    total = threads * per_thread
    with transaction.atomic():
        users = User.objects.bulk_create(
            [User(email=f"bench-{run}-{n}@bench.shequn.test", password=password) for n in range(total)],
            batch_size=5000,
        )
        carts = Cart.objects.bulk_create([Cart(user=user) for user in users], batch_size=5000)
        CartLine.objects.bulk_create(
            [CartLine(cart=cart, variant=variant, quantity=1, price_when_added=variant.price) for cart in carts],
            batch_size=5000,
        )
        addresses = Address.objects.bulk_create(
            [
                Address(
                    user=user,
                    recipient="压测",
                    phone="13800000000",
                    region="上海市",
                    city="上海市",
                    district="浦东新区",
                    street="世纪大道1号",
                    is_default=True,
                )
                for user in users
            ],
            batch_size=5000,
        )
    everyone = list(zip(users, carts, addresses, strict=True))
    return [everyone[t * per_thread : (t + 1) * per_thread] for t in range(threads)]


class Worker(threading.Thread):
    def __init__(self, pool: list[tuple], start_gate, seconds: float, variant: ProductVariant):
        super().__init__(daemon=True)
        self.pool, self.start_gate, self.seconds, self.variant = pool, start_gate, seconds, variant
        self.placed = 0
        self.refills = 0
        self.errors: Counter = Counter()
        self.durations: list[float] = []

    def run(self) -> None:
        try:
            connection.ensure_connection()  # this thread's own connection, opened before the clock
            self.start_gate.wait()
            deadline = time.monotonic() + self.seconds
            index = 0
            while time.monotonic() < deadline:
                if index < len(self.pool):
                    buyer, cart, address = self.pool[index]
                    index += 1
                else:
                    # Pool used up: reuse the last buyer, refilling the cart (an extra INSERT).
                    buyer, cart, address = self.pool[-1]
                    CartLine.objects.create(cart=cart, variant=self.variant, quantity=1, price_when_added=PRICE)
                    self.refills += 1
                began = time.perf_counter()
                try:
                    order_place(buyer=buyer, cart=cart, address=address, shipping_choices=None)
                except Exception as error:  # noqa: BLE001 - a benchmark counts failures by kind
                    self.errors[f"{type(error).__name__}: {error}"[:120]] += 1
                    continue
                self.durations.append(time.perf_counter() - began)
                self.placed += 1
        finally:
            connections.close_all()


def threads_run(pools: list[list[tuple]], gate, seconds: float, variant: ProductVariant) -> dict:
    """Runs one thread per pool until `seconds` after the gate opens; returns their tallies."""
    workers = [Worker(pool, gate, seconds, variant) for pool in pools]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {
        "placed": sum(worker.placed for worker in workers),
        "refills": sum(worker.refills for worker in workers),
        "errors": sum((worker.errors for worker in workers), Counter()),
        "durations": [d for worker in workers for d in worker.durations],
    }


def _process_main(pools, gate, seconds, variant, results) -> None:
    results.put(threads_run(pools, gate, seconds, variant))


def orders_race(*, pools: list[list[tuple]], processes: int, seconds: float, variant: ProductVariant) -> tuple:
    """All threads start together (one barrier); with processes > 1 the threads are spread
    over forked processes, so Python's GIL is not the bottleneck. Returns (tallies, elapsed)."""
    connections.close_all()  # never share a connection with a forked child
    if processes == 1:
        gate = threading.Barrier(len(pools) + 1)
        box: list[dict] = []
        runner = threading.Thread(target=lambda: box.append(threads_run(pools, gate, seconds, variant)))
        runner.start()
        gate.wait()
        started = time.monotonic()
        runner.join()
        return box[0], time.monotonic() - started
    context = multiprocessing.get_context("fork")
    gate = context.Barrier(len(pools) + 1)
    results = context.Queue()
    children = [
        context.Process(target=_process_main, args=(pools[k::processes], gate, seconds, variant, results))
        for k in range(processes)
    ]
    for child in children:
        child.start()
    gate.wait()
    started = time.monotonic()
    tallies = [results.get() for _child in children]
    elapsed = time.monotonic() - started
    for child in children:
        child.join()
    return {
        "placed": sum(t["placed"] for t in tallies),
        "refills": sum(t["refills"] for t in tallies),
        "errors": sum((t["errors"] for t in tallies), Counter()),
        "durations": [d for t in tallies for d in t["durations"]],
    }, elapsed


def pgbench_rate(*, clients: int, seconds: int) -> float | None:
    """tps of `BEGIN; UPDATE hot row WHERE stock >= 1; INSERT line; COMMIT` by pgbench."""
    if connection.vendor != "postgresql":
        return None
    db = settings.DATABASES["default"]
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    args = ["-h", str(db.get("HOST") or "127.0.0.1"), "-p", str(db.get("PORT") or 5432), "-U", str(db.get("USER"))]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_pg_line, bench_pg_stock")
        cursor.execute("CREATE TABLE bench_pg_stock (id int PRIMARY KEY, stock bigint NOT NULL CHECK (stock >= 0))")
        cursor.execute(
            "CREATE TABLE bench_pg_line (id bigserial PRIMARY KEY, stock_id int NOT NULL, quantity int NOT NULL,"
            " created_at timestamptz NOT NULL DEFAULT now())"
        )
        cursor.execute("INSERT INTO bench_pg_stock VALUES (1, 1000000000)")
    script = (
        "BEGIN;\n"
        "UPDATE bench_pg_stock SET stock = stock - 1 WHERE id = 1 AND stock >= 1;\n"
        "INSERT INTO bench_pg_line (stock_id, quantity) VALUES (1, 1);\n"
        "END;\n"
    )
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".sql") as file:
            file.write(script)
            file.flush()
            result = subprocess.run(
                [
                    "pgbench",
                    "-n",
                    "-c",
                    str(clients),
                    "-j",
                    "2",
                    "-T",
                    str(seconds),
                    "-f",
                    file.name,
                    *args,
                    db["NAME"],
                ],
                capture_output=True,
                text=True,
                env=env,
                timeout=seconds + 60,
            )
        match = re.search(r"tps = ([\d.]+)", result.stdout)
        return float(match.group(1)) if match else None
    except (OSError, subprocess.TimeoutExpired):
        return None
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_pg_line, bench_pg_stock")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--processes", type=int, default=1, help="spread the threads over N processes")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--stock", type=int, default=100_000)
    parser.add_argument("--expected-max-rate", type=int, default=2000, help="orders/s the buyer pools are sized for")
    parser.add_argument("--pgbench", action="store_true", help="also measure the minimal transaction with pgbench")
    parser.add_argument("--keep", action="store_true", help="keep this run's buyers and orders (deleted by default)")
    options = parser.parse_args()
    if min(options.threads, options.processes, options.stock) < 1 or options.seconds <= 0:
        parser.error("--threads, --processes, --seconds and --stock must be positive")
    options.processes = min(options.processes, options.threads)

    print(f"Database: {connection.vendor} {settings.DATABASES['default']['NAME']}")
    variant = hot_variant_prepare(stock=options.stock)
    run = time.strftime("%Y%m%d%H%M%S")
    per_thread = max(10, int(options.expected_max_rate * options.seconds / options.threads) + 1)
    began = time.monotonic()
    pools = buyers_prepare(run=run, variant=variant, threads=options.threads, per_thread=per_thread)
    print(f"Prepared {options.threads} x {per_thread} buyers with carts in {time.monotonic() - began:.1f} s")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # fresh statistics for the tables just filled
            cursor.execute("ANALYZE marketplace_user, orders_cart, orders_cartline, orders_address")

    tallies, elapsed = orders_race(pools=pools, processes=options.processes, seconds=options.seconds, variant=variant)
    placed = tallies["placed"]
    durations = sorted(tallies["durations"])
    errors: Counter = tallies["errors"]
    variant.refresh_from_db()
    lines = OrderLine.objects.filter(variant=variant, vendor_order__order__buyer__email__startswith=f"bench-{run}-")
    line_count = lines.count()
    units = lines.aggregate(units=Sum("quantity"))["units"] or 0
    product_stock = Product.objects.filter(pk=variant.product_id).values_list("total_stock", flat=True).get()

    rate = placed / elapsed if elapsed else 0.0
    print(
        f"\nOrders placed on one hot variant by {options.threads} threads"
        f" ({options.processes} process{'es' if options.processes > 1 else ''}) in {elapsed:.1f} s: {placed}"
    )
    print(f"  rate: {rate:,.0f} orders/s   (target >= 300/s: {'PASS' if rate >= 300 else 'MISS'})")
    if durations:
        pick = lambda q: durations[min(len(durations) - 1, int(q * len(durations)))] * 1000  # noqa: E731
        print(
            f"  latency per order: median {statistics.median(durations) * 1000:.1f} ms,"
            f" p95 {pick(0.95):.1f} ms, p99 {pick(0.99):.1f} ms"
        )
    refills = tallies["refills"]
    if refills:
        print(f"  (buyer pools ran out: {refills} carts refilled inside the timed loop; raise --expected-max-rate)")
    for message, count in errors.most_common(5):
        print(f"  failed x{count}: {message}")

    sold = options.stock - variant.stock
    consistent = sold == units == placed and line_count == placed and product_stock == variant.stock
    print(
        f"  stock audit: initial {options.stock}, final {variant.stock}, sold {sold}; "
        f"order lines {line_count} with {units} units; product total_stock {product_stock} -> "
        f"{'OK, never oversold' if consistent else 'MISMATCH'}"
    )

    if options.pgbench:
        tps = pgbench_rate(clients=options.threads, seconds=int(max(5, options.seconds)))
        if tps is None:
            print("  pgbench: not available")
        else:
            print(
                f"  for scale, PostgreSQL alone (pgbench, {options.threads} clients, conditional UPDATE of one hot row"
                f" + one INSERT per transaction): {tps:,.0f} tps; the service reaches {rate / tps:.0%} of it"
            )
    if not options.keep:
        began = time.monotonic()
        Order.objects.filter(buyer__email__startswith=f"bench-{run}-").delete()
        User.objects.filter(email__startswith=f"bench-{run}-").delete()
        print(f"  (this run's buyers and orders deleted in {time.monotonic() - began:.1f} s; --keep keeps them)")
    return 0 if consistent else 1


if __name__ == "__main__":
    sys.exit(main())
