"""Concurrency and faults with real Celery workers on Redis (each its own process, on the test
database): two workers settle the same period at once; a worker is killed in the middle of a
settlement batch and the job runs again; the same provider notification arrives ten times at
once; a provider call is retried with backoff. Each time the ledger is the one a single clean
run writes.

"One clean run" is measured, not guessed: on the very same data, the test runs the settlement
once in its own process inside a transaction, reads the result and rolls it back; the workers
then do the real thing and must arrive at exactly that result (ids aside, which sequences hand
out anew). See payments/tests/subprocess_workers.py for the workers and the broker."""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog.tests.factories import VariantFactory
from marketplace.tests.factories import UserFactory
from orders.models import OrderLine, ReturnRequest, VendorOrder
from payments import ledger
from payments.invariants import ledger_problems
from payments.models import JournalEntry, LineSplit, ProviderCall, SandboxOperation, Settlement
from payments.services.payouts import available_money, payout_request
from payments.services.refunds import refund_create
from payments.services.settlement import SETTLEMENT_LOCK, settle_due
from payments.tasks import settlement_run
from payments.tests.money_helpers import complete, ledger_snapshot, paid_order, pay
from payments.tests.order_builders import LineSpec, ShopSpec, discounted_order
from payments.tests.subprocess_workers import (
    Worker,
    advisory_lock_waiters,
    broker_purge,
    broker_redeliver_unacked,
    side_session,
    start_workers,
    wait_for,
    wait_until_idle,
)
from vendors.tests.factories import ShippingTemplateFactory, VendorFactory

D = Decimal
BATCH = 7  # small batches, so that a run is many transactions and two runs interleave

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


# --- Workers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workers(django_db_setup, tmp_path_factory):
    """Three worker processes for the whole module (starting one costs seconds): w1 and w2 take
    the default queue and their own; the victim only its own, so only jobs sent to it run there."""
    assert django_settings.REDIS_URL, "the worker tests need REDIS_URL (make test sets it)"
    logs = tmp_path_factory.mktemp("worker-logs")
    env = {"SETTLEMENT_BATCH_SIZE": str(BATCH)}
    pool = {
        name: Worker(name=name, log_path=logs / f"{name}.log", env=env, also_default_queue=name != "victim")
        for name in ("w1", "w2", "victim")
    }
    queues = sorted({queue for worker in pool.values() for queue in worker.queues})
    broker_redeliver_unacked()  # leftovers of an interrupted earlier run go back to their queues...
    broker_purge(queues)  # ...and are thrown away
    start_workers(list(pool.values()))
    yield pool
    for worker in pool.values():
        worker.stop()
    broker_redeliver_unacked()
    broker_purge(queues)


@pytest.fixture
def pool(workers, settings):
    """The workers, with this test's jobs going to them (not run inline), and every job they
    were given finished before pytest-django empties the tables."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    yield workers
    queues = sorted({queue for worker in workers.values() for queue in worker.queues})
    wait_until_idle(queues)


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.SETTLEMENT_BATCH_SIZE = BATCH
    # The gateway's own delivery after "Pay" goes nowhere: the stories deliver it themselves.
    settings.SITE_URL = "http://127.0.0.1:9"


def inline(settings):
    """Until the end of the `with`, jobs run inline in the test (building the story's past)."""

    class _Inline:
        def __enter__(self):
            self.before = settings.CELERY_TASK_ALWAYS_EAGER
            settings.CELERY_TASK_ALWAYS_EAGER = True

        def __exit__(self, *exc):
            settings.CELERY_TASK_ALWAYS_EAGER = self.before

    return _Inline()


# --- The period to settle ---------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    due: list[int]  # shop orders a run settles now
    held_back: list[int]  # completed, but inside the return window or with an open return
    fully_refunded: int  # due, with nothing left to move


def shop_in_debt(*, buyer, shop, variant) -> None:
    """An earlier order of `shop` settled and paid out, then refunded: the shop owes money
    (negative available balance), which the next settlement must net."""
    order, _payment = paid_order(buyer=buyer, items={shop: [(variant, 1)]}, shipping="0.00")
    vendor_order = complete(order.vendor_orders.get(), delivered_days_ago=30)
    settle_due()
    payout_request(owner_type="vendor", owner_key=shop.pk, currency="CNY", actor=None)
    line = OrderLine.objects.get(vendor_order=vendor_order)
    refund_create(vendor_order=vendor_order, actor=None, reason="late claim", lines=[(line, line.split.paid)])
    assert available_money(owner_type="vendor", owner_key=shop.pk, currency="CNY") < 0


def period_to_settle(*, buyer, shops, orders: int) -> Period:
    """`orders` orders of one line per shop (varied quantities, referrals, shop and platform
    discounts), paid through the sandbox; their shop orders completed long enough ago, but for
    one still inside its return window and one with an open return; two partly refunded before
    settlement and one refunded in full. The first shop starts in debt."""
    referrer = UserFactory(email="referrer@example.com")
    variants = [VariantFactory(product__vendor=shop, price=price) for shop, price in zip(shops, ["33.33", "19.99", "128.00"])]
    shop_in_debt(buyer=buyer, shop=shops[0], variant=variants[0])
    vendor_orders: list[VendorOrder] = []
    for index in range(orders):
        specs = []
        for position, (shop, variant) in enumerate(zip(shops, variants, strict=True)):
            quantity = 1 + (index + position) % 3
            line = LineSpec(
                variant=variant,
                unit_price=D(variant.price),
                quantity=quantity,
                referrer=referrer if position == 0 and index % 2 == 0 else None,
                referral_rate=D("0.0500") if position == 0 and index % 2 == 0 else D(0),
                shop_discount=D("5.00") if position == 2 and index % 3 == 0 else D(0),
                platform_discount=D("3.00") if position == 1 and index % 4 == 1 else D(0),
            )
            specs.append(ShopSpec(vendor=shop, shipping=D("10.00") if position else D("0.00"), lines=[line]))
        order = discounted_order(buyer=buyer, shops=specs)
        pay(order)
        vendor_orders += list(order.vendor_orders.order_by("pk"))

    inside_window, open_return, *rest = vendor_orders[3:]
    complete(inside_window, delivered_days_ago=3)
    for vendor_order in [vendor_orders[0], vendor_orders[1], vendor_orders[2], open_return, *rest]:
        complete(vendor_order, delivered_days_ago=8)
    ReturnRequest.objects.create(
        vendor_order=open_return, buyer=buyer, number=f"R-{open_return.pk}", kind="refund_only", reason="damaged"
    )
    partly, partly_too, fully = vendor_orders[0], vendor_orders[4 + 1], vendor_orders[-1]
    for vendor_order in (partly, partly_too):
        line = OrderLine.objects.filter(vendor_order=vendor_order).first()
        refund_create(vendor_order=vendor_order, actor=buyer, reason="one broken", lines=[(line, line.unit_price)])
    refund_create(
        vendor_order=fully,
        actor=buyer,
        reason="never arrived",
        lines=[(line, line.split.paid) for line in OrderLine.objects.filter(vendor_order=fully)],
        shipping=LineSplit.objects.get(vendor_order=fully, order_line__isnull=True).paid,
    )
    held_back = [inside_window.pk, open_return.pk]
    due = sorted(vo.pk for vo in vendor_orders if vo.pk not in held_back)
    return Period(due=due, held_back=held_back, fully_refunded=fully.pk)


@pytest.fixture
def shops(shop_a, shop_b):
    shop_c = VendorFactory(name="Jingdezhen Porcelain", slug="jingdezhen-porcelain")
    ShippingTemplateFactory(vendor=shop_c)
    return [shop_a, shop_b, shop_c]


# --- What a run leaves behind -----------------------------------------------------------------


@dataclass(frozen=True)
class Settled:
    """Everything a settlement run writes, as comparable data (no ids a sequence hands out)."""

    ledger: list[tuple]
    settlements: list[tuple]
    split_calls: list[tuple]


def settled() -> Settled:
    return Settled(
        ledger=ledger_snapshot(),
        settlements=list(
            Settlement.objects.order_by("vendor_order_id").values_list(
                "vendor_order_id", "vendor_id", "payment_id", "currency", "vendor_amount", "commission",
                "referral", "netted", "entry__idempotency_key", "instruction__external_id",
            )  # fmt: skip
        ),
        split_calls=list(
            ProviderCall.objects.filter(kind=ProviderCall.Kind.SPLIT)
            .order_by("external_id")
            .values_list("external_id", "provider", "payment_id", "payload")
        ),
    )


def one_clean_run() -> Settled:
    """The result of one clean settlement run on the current data, rolled back afterwards: the
    reference every concurrent or interrupted run must reproduce exactly."""
    with transaction.atomic():
        settle_due()
        result = settled()
        transaction.set_rollback(True)
    return result


def half_written() -> list[str]:
    """Pieces of a settlement without the rest: a settlement that moved money but lacks its
    entry or its split call, a settlement entry or split call without its settlement."""
    moving = ~Q(vendor_amount=0) | ~Q(commission=0) | ~Q(referral=0)
    problems = [
        f"settlement of shop order {vo_id} has no entry or no split call"
        for vo_id in Settlement.objects.filter(moving)
        .filter(Q(entry__isnull=True) | Q(instruction__isnull=True))
        .values_list("vendor_order_id", flat=True)
    ]
    problems += [
        f"entry {key} has no settlement"
        for key in JournalEntry.objects.filter(kind="settlement", settlement__isnull=True).values_list(
            "idempotency_key", flat=True
        )
    ]
    problems += [
        f"split call {external_id} has no settlement"
        for external_id in ProviderCall.objects.filter(kind=ProviderCall.Kind.SPLIT, settlement__isnull=True).values_list(
            "external_id", flat=True
        )
    ]
    return problems


def settled_ids() -> list[int]:
    return list(Settlement.objects.order_by("vendor_order_id").values_list("vendor_order_id", flat=True))


