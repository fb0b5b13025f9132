"""Settling N completed shop orders in one run, next to a plain bulk INSERT of N rows.

    DATABASE_URL=postgres://... .venv/bin/python bench/settle_rate.py [--orders 100000]

The database is prepared with N paid, completed shop orders whose return window has passed:
orders, shop orders, lines, captured payments, their line splits and capture entries, written
set-wise with generate_series (the preparation is not timed). Then `settle_due()` runs once,
as the beat job or `manage.py settle` would, and the time is printed with its rate, next to the
rate of a plain bulk INSERT of the same number of rows into a table of similar width on the
same database, done two ways: multi-row INSERT statements sent by the client in batches of
1,000 (what Django's bulk_create does), and one server-side INSERT ... SELECT. Finally the
settlement is checked: one settlement and one split call per shop order, one entry per shop and
batch, a second run settling nothing, and `ledger_check`'s invariants (which include every
settlement entry moving exactly the sums of its settlements).

A benchmark, not a test: it prints figures, and exits non-zero only when the books are wrong.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

SHOPS = 50


def sql(statement: str, params=None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.rowcount


def prepare(orders: int) -> None:
    """N paid orders of one line each, one shop order per order, spread over SHOPS shops,
    delivered 10 days ago and completed; captured by the sandbox and split (rate 5%, fee 0.6%)."""
    from marketplace.models import User
    from payments import ledger
    from vendors.models import Vendor

    call_command("migrate", verbosity=0)
    if Vendor.objects.filter(slug__startswith="bench-shop-").exists():
        sys.exit("The database already holds a settlement run: point BENCH_SETTLE_DATABASE_URL at a fresh one.")
    buyer = User.objects.create_user(email="bench.buyer@example.com", password=None)
    shops = [
        Vendor.objects.create(
            name=f"Bench shop {n}",
            slug=f"bench-shop-{n}",
            legal_kind="business",
            shop_type="brand",
            contact_email=f"shop{n}@example.com",
            status="active",
        )
        for n in range(SHOPS)
    ]
    first_shop = shops[0].pk
    clearing = ledger.provider_clearing("sandbox", "CNY")
    fees = ledger.provider_fees("sandbox", "CNY")
    commission_pending = ledger.platform_account(ledger.COMMISSION_PENDING, "CNY")
    for shop in shops:
        ledger.vendor_account(shop.pk, ledger.PENDING, "CNY")

    params = {"n": orders, "buyer": buyer.pk, "shops": SHOPS, "first_shop": first_shop}
    # Amounts per order g: price 10.00 + (g % 500) cents... kept simple and exact.
    sql(
        """
        INSERT INTO orders_order (number, buyer_id, status, currency, items_total, shipping_total, discount_total,
                                  grand_total, shipping_address, expires_at, paid_at, created_at)
        SELECT 'B' || g, %(buyer)s, 'paid', 'CNY', 10 + (g %% 500) / 100.0, 0, 0, 10 + (g %% 500) / 100.0, '{}',
               now() - interval '20 days', now() - interval '15 days', now() - interval '15 days'
        FROM generate_series(1, %(n)s) g
        """,
        params,
    )
    sql(
        """
        INSERT INTO orders_vendororder (order_id, vendor_id, number, status, currency, items_total, shipping_total,
                                        shop_discount, platform_discount, total, shipping_method, carrier,
                                        tracking_number, paid_at, shipped_at, delivered_at, completed_at, created_at)
        SELECT o.id, %(first_shop)s + (o.id %% %(shops)s), o.number || '-1', 'completed', 'CNY', o.items_total, 0, 0, 0,
               o.grand_total, 'Standard', 'SF', 'SF1', o.paid_at, now() - interval '12 days',
               now() - interval '10 days', now() - interval '9 days', o.created_at
        FROM orders_order o WHERE o.number LIKE 'B%%'
        """,
        params,
    )
    sql(
        """
        INSERT INTO orders_orderline (vendor_order_id, variant_id, product_id_snapshot, product_title, variant_name, sku,
                                      unit_price, quantity, line_total, shop_discount, platform_discount, referral_rate)
        SELECT vo.id, NULL, 1, 'Bench tea', '', 'BENCH-1', vo.items_total, 1, vo.items_total, 0, 0, 0
        FROM orders_vendororder vo WHERE vo.number LIKE 'B%%'
        """
    )
    sql(
        """
        INSERT INTO payments_payment (order_id, provider, status, amount, currency, reference, provider_reference,
                                      failure_reason, needs_refund, created_at, captured_at, amount_received)
        SELECT o.id, 'sandbox', 'captured', o.grand_total, 'CNY', 'PAY-B' || o.id, 'sbx_ch_b' || o.id, '', false,
               o.created_at, o.paid_at, o.grand_total
        FROM orders_order o WHERE o.number LIKE 'B%%'
        """
    )
    # commission = round_half_up(paid × 5%), fee = round_half_up(paid × 0.6%): one line per order,
    # so the largest-remainder allocation of the fee is the whole fee.
    sql(
        """
        INSERT INTO payments_linesplit (payment_id, vendor_order_id, order_line_id, vendor_id, currency, paid,
                                        platform_discount, commission_rate, commission, referral_rate, referral, fee,
                                        fee_bearer, tax, vendor_amount, created_at)
        SELECT p.id, vo.id, ol.id, vo.vendor_id, 'CNY', ol.line_total, 0, 0.05, ROUND(ol.line_total * 0.05, 2), 0, 0,
               ROUND(ol.line_total * 0.006, 2), 'vendor', 0,
               ol.line_total - ROUND(ol.line_total * 0.05, 2) - ROUND(ol.line_total * 0.006, 2), p.captured_at
        FROM orders_vendororder vo
        JOIN orders_orderline ol ON ol.vendor_order_id = vo.id
        JOIN payments_payment p ON p.order_id = vo.order_id
        WHERE vo.number LIKE 'B%%'
        """
    )
    sql(
        """
        INSERT INTO payments_journalentry (idempotency_key, kind, memo, effective_at, created_at, reference)
        SELECT 'capture:' || p.reference || ':vo:' || ls.vendor_order_id, 'capture', '', p.captured_at, p.captured_at, '{}'
        FROM payments_linesplit ls JOIN payments_payment p ON p.id = ls.payment_id
        """
    )
    sql(
        """
        INSERT INTO payments_posting (entry_id, account_id, amount, currency)
        SELECT e.id, x.account_id, x.amount, 'CNY'
        FROM payments_linesplit ls
        JOIN payments_payment p ON p.id = ls.payment_id
        JOIN payments_journalentry e ON e.idempotency_key = 'capture:' || p.reference || ':vo:' || ls.vendor_order_id
        JOIN payments_ledgeraccount va ON va.owner_type = 'vendor' AND va.owner_key = CAST(ls.vendor_id AS VARCHAR(64))
                                       AND va.purpose = 'pending' AND va.currency = 'CNY'
        CROSS JOIN LATERAL (VALUES (%(clearing)s, ls.paid), (va.id, -ls.vendor_amount),
                                   (%(commission)s, -ls.commission), (%(fees)s, -ls.fee)) AS x(account_id, amount)
        WHERE x.amount <> 0
        """,
        {"clearing": clearing.pk, "commission": commission_pending.pk, "fees": fees.pk},
    )
    # Settle a database at rest, as the nightly job would find it: the load's dead space vacuumed,
    # its statistics taken and its WAL checkpointed, so that neither autovacuum nor a checkpoint
    # triggered by the load runs in the middle of the timed part.
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("CHECKPOINT")


def plain_insert_client(rows: int) -> float:
    sql("DROP TABLE IF EXISTS bench_plain_insert")
    sql(
        "CREATE TABLE bench_plain_insert (id bigserial PRIMARY KEY, vendor_order_id bigint NOT NULL, "
        "amount numeric(14, 2) NOT NULL, currency varchar(3) NOT NULL, created_at timestamptz NOT NULL)"
    )
    started = time.perf_counter()
    batch = 1000
    with connection.cursor() as cursor:
        for start in range(0, rows, batch):
            count = min(batch, rows - start)
            values = ", ".join(["(%s, %s, %s, now())"] * count)
            params = []
            for n in range(start, start + count):
                params += [n, "12.34", "CNY"]
            cursor.execute(
                f"INSERT INTO bench_plain_insert (vendor_order_id, amount, currency, created_at) VALUES {values}",
                params,
            )
    connection.commit() if not connection.get_autocommit() else None
    return time.perf_counter() - started


def plain_insert_server(rows: int) -> float:
    sql("TRUNCATE bench_plain_insert")
    started = time.perf_counter()
    sql(
        "INSERT INTO bench_plain_insert (vendor_order_id, amount, currency, created_at) "
        "SELECT g, 12.34, 'CNY', now() FROM generate_series(1, %s) g",
        [rows],
    )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("The settlement benchmark runs on PostgreSQL: set DATABASE_URL.")
    settings.CELERY_TASK_ALWAYS_EAGER = False  # settling queues the split calls; sending them is not timed

    from payments.models import JournalEntry, ProviderCall, Settlement
    from payments.services import settlement

    print(f"== Preparing {args.orders:,} completed shop orders (not timed)")
    started = time.perf_counter()
    prepare(args.orders)
    print(f"   prepared in {time.perf_counter() - started:.1f} s")

    # The split calls are queued to the broker after commit; the benchmark times the settlement
    # itself, so the queueing is skipped (calls stay pending in the outbox for the worker).
    from payments import tasks

    tasks.provider_calls_sweep.delay = lambda *a, **k: None
    print("== settle_due()")
    started = time.perf_counter()
    result = settlement.settle_due()
    settle_seconds = time.perf_counter() - started
    settle_rate = result.settled / settle_seconds
    print(
        f"   settled {result.settled:,} shop orders in {result.batches} batches: {settle_seconds:.2f} s, {settle_rate:,.0f}/s"
    )

    client_seconds = plain_insert_client(args.orders)
    server_seconds = plain_insert_server(args.orders)
    client_rate, server_rate = args.orders / client_seconds, args.orders / server_seconds
    print(
        f"== plain bulk INSERT of {args.orders:,} rows, client multi-row batches of 1,000: {client_seconds:.2f} s, {client_rate:,.0f}/s"
    )
    print(
        f"== plain INSERT ... SELECT of {args.orders:,} rows on the server: {server_seconds:.2f} s, {server_rate:,.0f}/s"
    )
    print(f"== ratio settle / bulk INSERT (client batches): {settle_rate / client_rate:.2f}   (target >= 0.3)")
    print(f"== ratio settle / INSERT ... SELECT (server):    {settle_rate / server_rate:.2f}")

    problems = []
    if Settlement.objects.count() != args.orders:
        problems.append(f"{Settlement.objects.count()} settlements for {args.orders} shop orders")
    entries = JournalEntry.objects.filter(kind="settlement").count()
    print(f"   {entries} settlement entries (one per shop and batch), {Settlement.objects.count():,} settlements")
    if Settlement.objects.filter(entry__isnull=True).exists() or entries > SHOPS * result.batches:
        problems.append("not one settlement entry per shop and batch")
    if ProviderCall.objects.filter(kind="split").count() != args.orders:
        problems.append("not one split call per shop order")
    second = settlement.settle_due()
    if second.settled:
        problems.append(f"a second run settled {second.settled} more")
    started = time.perf_counter()
    from payments.invariants import ledger_problems

    found = ledger_problems()
    print(f"== ledger_check over the whole ledger: {len(found)} problem(s) in {time.perf_counter() - started:.1f} s")
    problems += found[:10]
    sql("DROP TABLE IF EXISTS bench_plain_insert")
    for problem in problems:
        print("PROBLEM:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
