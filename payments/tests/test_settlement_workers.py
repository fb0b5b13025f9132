"""Concurrency and faults with real Celery workers on Redis, each its own process on the test
database: two workers settle the same period at once; a worker is killed in the middle of a
settlement batch and its job runs again; the same provider notification arrives ten times at
once; a provider call is retried with backoff. Each time the result is that of one clean run.

"One clean run" is measured, not guessed: on the very same data the test runs the step once in
its own process inside a transaction, reads the result and rolls it back; the workers (or the
ten deliveries) then do the real thing and must arrive at exactly that result, ids aside (the
sequences hand them out anew). payments/tests/subprocess_workers.py runs the workers."""

import hashlib
import hmac
import json
import re
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connections, transaction
from django.db.models import Q
from django.test import Client
from django.utils import timezone

from catalog.tests.factories import VariantFactory
from marketplace.celery import app as celery_app
from marketplace.models import AuditEvent
from marketplace.tests.factories import UserFactory
from orders.models import Order, OrderEvent, OrderLine, ReturnRequest, VendorOrder
from orders.tests.fulfilment_factories import order_for
from payments.invariants import ledger_problems
from payments.models import (
    JournalEntry,
    LineSplit,
    Payment,
    Payout,
    ProviderCall,
    Refund,
    SandboxOperation,
    Settlement,
    WebhookEvent,
)
from payments.providers import sandbox
from payments.services.payouts import available_money, payout_request
from payments.services.refunds import refund_create
from payments.services.settlement import SETTLEMENT_LOCK, settle_due
from payments.tasks import provider_call_send, provider_calls_sweep, settlement_run
from payments.tests.helpers import WEBHOOK_URL, body_for, deliver, press, start_payment
from payments.tests.money_helpers import complete, ledger_snapshot, paid_order
from payments.tests.order_builders import LineSpec, ShopSpec, discounted_order
from payments.tests.subprocess_workers import (
    Worker,
    advisory_lock_waiters,
    broker_drop_unacked,
    broker_purge,
    broker_redeliver_unacked,
    sessions_of,
    side_session,
    start_workers,
    wait_for,
    wait_until_idle,
)
from vendors.tests.factories import ShippingTemplateFactory, VendorFactory

D = Decimal
BATCH = 5  # small batches: a run is many transactions, and two runs interleave batch by batch

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


# --- Workers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workers(django_db_setup, tmp_path_factory):
    """Three worker processes for the whole module (each takes seconds to start): w1 and w2
    consume the default queue and their own; the victim only its own, so it runs nothing but
    the job a test sends it."""
    assert django_settings.REDIS_URL, "the worker tests need REDIS_URL (make test sets it)"
    logs = tmp_path_factory.mktemp("worker-logs")
    env = {"SETTLEMENT_BATCH_SIZE": str(BATCH)}
    pool = {
        name: Worker(name=name, log_path=logs / f"{name}.log", env=env, also_default_queue=name != "victim")
        for name in ("w1", "w2", "victim")
    }
    queues = all_queues(pool)
    broker_redeliver_unacked()  # jobs left by an interrupted earlier run go back to their queues...
    broker_purge(queues)  # ...and are thrown away
    start_workers(list(pool.values()))
    yield pool
    for worker in pool.values():
        worker.stop()
    broker_redeliver_unacked()
    broker_purge(queues)


def all_queues(pool: dict[str, Worker]) -> list[str]:
    return sorted({queue for worker in pool.values() for queue in worker.queues})


@pytest.fixture
def pool(workers, settings):
    """The workers, running this test's jobs (not inline); every job they were given has finished
    before pytest-django empties the tables."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    yield workers
    dead = [worker.queue for worker in workers.values() if not worker.alive()]
    broker_drop_unacked(dead)  # a killed worker's job, if the story stopped before it ran again
    broker_purge(dead)
    wait_until_idle(all_queues(workers))


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.SETTLEMENT_BATCH_SIZE = BATCH
    # The gateway's own delivery after "Pay" goes nowhere: the stories deliver it themselves.
    settings.SITE_URL = "http://127.0.0.1:9"
    yield
    cache.delete(sandbox.OUTAGE_CACHE_KEY)


@contextmanager
def inline(settings):
    """Jobs run inline in the test while the story's past is built."""
    before = settings.CELERY_TASK_ALWAYS_EAGER
    settings.CELERY_TASK_ALWAYS_EAGER = True
    try:
        yield
    finally:
        settings.CELERY_TASK_ALWAYS_EAGER = before


# --- The period to settle ---------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    due: list[int]  # the shop orders a run settles now, in id order
    held_back: list[int]  # completed, but inside the return window or with an open return
    fully_refunded: int  # due, with nothing left to move
    debt: Decimal  # what the first shop owed before the period


@pytest.fixture
def shops(shop_a, shop_b):
    shop_c = VendorFactory(name="Jingdezhen Porcelain", slug="jingdezhen-porcelain")
    ShippingTemplateFactory(vendor=shop_c)
    return [shop_a, shop_b, shop_c]


def pay_in_the_sandbox(orders: list[Order], *, buyer) -> None:
    """The buyer pays each order on the sandbox's hosted page; the gateway's signed notification
    captures it (one client for all: building a client's middleware costs a while)."""
    client = Client()
    client.force_login(buyer)
    for order in orders:
        _payment, charge = start_payment(client, order)
        press(client, charge, "pay")
        assert deliver(client, body_for(charge)).status_code == 200


def shop_in_debt(*, buyer, shop, variant) -> Decimal:
    """An earlier order of `shop` settled and paid out, then refunded: the shop owes the money
    back (a negative available balance), which the next settlement must net."""
    order, _payment = paid_order(buyer=buyer, items={shop: [(variant, 1)]}, shipping="0.00")
    vendor_order = complete(order.vendor_orders.get(), delivered_days_ago=30)
    settle_due()
    payout_request(owner_type="vendor", owner_key=shop.pk, currency="CNY", actor=None)
    line = OrderLine.objects.get(vendor_order=vendor_order)
    refund_create(vendor_order=vendor_order, actor=None, reason="late claim", lines=[(line, line.split.paid)])
    debt = -available_money(owner_type="vendor", owner_key=shop.pk, currency="CNY")
    assert debt > 0
    return debt


def period_to_settle(*, buyer, shops, orders: int) -> Period:
    """`orders` orders with one line per shop (varied quantities, referrals, shop discounts)
    paid through the sandbox; their shop orders completed long enough ago, but for one still
    inside its return window and one with an open return; two partly refunded before settlement
    and one refunded in full. The first shop starts in debt.

    No platform-funded discount: the provider refuses the last split of such a payment (bug 1,
    a strict xfail in test_money_properties.py), and which split is last depends on the order in
    which two sweeps send them, so the comparison with the clean run would be about that bug."""
    assert orders >= 3
    referrer = UserFactory(email="referrer@example.com")
    prices = ["33.33", "19.99", "128.00"]
    variants = [VariantFactory(product__vendor=shop, price=price) for shop, price in zip(shops, prices, strict=True)]
    debt = shop_in_debt(buyer=buyer, shop=shops[0], variant=variants[0])
    placed = []
    for index in range(orders):
        specs = []
        for position, (shop, variant) in enumerate(zip(shops, variants, strict=True)):
            referred = position == 0 and index % 2 == 0
            line = LineSpec(
                variant=variant,
                unit_price=D(variant.price),
                quantity=1 + (index + position) % 3,
                referrer=referrer if referred else None,
                referral_rate=D("0.0500") if referred else D(0),
                shop_discount=D("5.00") if position == 2 and index % 3 == 0 else D(0),
            )
            specs.append(ShopSpec(vendor=shop, shipping=D("10.00") if position else D(0), lines=[line]))
        placed.append(discounted_order(buyer=buyer, shops=specs))
    pay_in_the_sandbox(placed, buyer=buyer)
    vendor_orders = list(VendorOrder.objects.filter(order__in=placed).order_by("pk"))

    inside_window, open_return = vendor_orders[1], vendor_orders[2]
    for vendor_order in vendor_orders:
        complete(vendor_order, delivered_days_ago=3 if vendor_order == inside_window else 8)
    ReturnRequest.objects.create(
        vendor_order=open_return, buyer=buyer, number=f"R-{open_return.pk}", kind="refund_only", reason="damaged"
    )
    fully = vendor_orders[-1]
    refund_create(
        vendor_order=fully,
        actor=buyer,
        reason="never arrived",
        lines=[(line, line.split.paid) for line in OrderLine.objects.filter(vendor_order=fully)],
        shipping=LineSplit.objects.get(vendor_order=fully, order_line__isnull=True).paid,
    )
    several = OrderLine.objects.filter(vendor_order__in=vendor_orders[3:-1], quantity__gt=1).order_by("pk")
    for line in several[:2]:
        refund_create(vendor_order=line.vendor_order, actor=buyer, reason="one broken", lines=[(line, line.unit_price)])
    held_back = [inside_window.pk, open_return.pk]
    due = [vendor_order.pk for vendor_order in vendor_orders if vendor_order.pk not in held_back]
    return Period(due=due, held_back=held_back, fully_refunded=fully.pk, debt=debt)


# --- What a run leaves behind -----------------------------------------------------------------


@dataclass(frozen=True)
class Settled:
    """Everything a settlement run writes, as comparable data (no ids a sequence hands out), and
    what became of its split calls at the provider."""

    ledger: list[tuple]
    settlements: list[tuple]
    split_calls: list[tuple]


SETTLEMENT_FIELDS = (
    "vendor_order_id", "vendor_id", "payment_id", "currency", "vendor_amount", "commission", "referral", "promotion", "netted",
    "entry__idempotency_key", "instruction__external_id",
)  # fmt: skip


def settled() -> Settled:
    return Settled(
        ledger=ledger_snapshot(),
        settlements=list(Settlement.objects.order_by("vendor_order_id").values_list(*SETTLEMENT_FIELDS)),
        split_calls=list(
            ProviderCall.objects.filter(kind=ProviderCall.Kind.SPLIT)
            .order_by("external_id")
            .values_list("external_id", "provider", "payment_id", "payload", "status")
        ),
    )


def one_clean_run() -> Settled:
    """One clean settlement run on the current data (its split calls sent inline), rolled back:
    the reference every concurrent or interrupted run must reproduce exactly."""
    with transaction.atomic():
        settle_due()
        result = settled()
        transaction.set_rollback(True)
    return result


def settled_ids() -> list[int]:
    return list(Settlement.objects.order_by("vendor_order_id").values_list("vendor_order_id", flat=True))


def half_written() -> list[str]:
    """Parts of a settlement without the rest: a settlement that moved money without its entry or
    its split call; a settlement entry, or a split call, without its settlement."""
    moving = ~Q(vendor_amount=0) | ~Q(commission=0) | ~Q(referral=0)
    lacking = Settlement.objects.filter(moving).filter(Q(entry__isnull=True) | Q(instruction__isnull=True))
    orphan_entries = JournalEntry.objects.filter(kind="settlement", settlements__isnull=True)
    orphan_calls = ProviderCall.objects.filter(kind=ProviderCall.Kind.SPLIT, settlement__isnull=True)
    return (
        [
            f"settlement of shop order {pk} lacks its entry or call"
            for pk in lacking.values_list("vendor_order_id", flat=True)
        ]
        + [f"entry {key} has no settlement" for key in orphan_entries.values_list("idempotency_key", flat=True)]
        + [f"split call {key} has no settlement" for key in orphan_calls.values_list("external_id", flat=True)]
    )


# --- Two workers, one period -----------------------------------------------------------------


def test_two_workers_settling_the_same_period_at_once_write_the_ledger_of_one_clean_run(pool, settings, buyer, shops):
    with inline(settings):
        period = period_to_settle(buyer=buyer, shops=shops, orders=10)
        earlier = settled_ids()
        reference = one_clean_run()
    assert settled_ids() == earlier  # the reference run was rolled back
    rows = {row[0]: dict(zip(SETTLEMENT_FIELDS, row, strict=True)) for row in reference.settlements}
    assert sorted(rows) == sorted(earlier + period.due) and len(period.due) == 28
    # A real period: the debt netted, referral commission, a shop order with nothing left to move.
    assert sum(row["netted"] for row in rows.values()) == period.debt
    assert sum(row["referral"] for row in rows.values()) > 0
    assert rows[period.fully_refunded]["entry__idempotency_key"] is None

    w1, w2 = pool["w1"], pool["w2"]
    with side_session(application_name="test-holds-the-settlement-lock") as session:
        # The test holds the settlement lock until both jobs are inside settle_due waiting for it,
        # so that they really run against each other, batch after batch, once it is released.
        session.execute("SELECT pg_advisory_lock(%s)", [SETTLEMENT_LOCK])
        first = settlement_run.apply_async(queue=w1.queue)
        second = settlement_run.apply_async(queue=w2.queue)
        wait_for(
            lambda: advisory_lock_waiters(SETTLEMENT_LOCK, [w1.application_name, w2.application_name]) == 2,
            what="both workers to wait for the settlement lock",
        )
        session.execute("SELECT pg_advisory_unlock(%s)", [SETTLEMENT_LOCK])
    counts = [int(w1.outcome(first.id)), int(w2.outcome(second.id))]
    assert sum(counts) == len(period.due)  # between them, every due shop order once
    wait_until_idle(all_queues(pool))  # and the split calls the runs queued were sent

    assert settled() == reference
    assert half_written() == []
    assert ledger_problems() == []
    # Two sweeps sent the split calls; the provider was asked each instruction once, and did it.
    calls = ProviderCall.objects.filter(kind=ProviderCall.Kind.SPLIT)
    assert set(calls.values_list("status", flat=True)) == {ProviderCall.Status.SUCCEEDED}
    assert sorted(
        SandboxOperation.objects.filter(kind=SandboxOperation.Kind.SPLIT).values_list("external_id", flat=True)
    ) == sorted(calls.values_list("external_id", flat=True))
    assert set(calls.values_list("attempts", flat=True)) == {1}


# --- A worker killed half-way ----------------------------------------------------------------


def test_a_worker_killed_inside_a_batch_leaves_nothing_half_written_and_its_job_run_again_completes_the_ledger(
    pool, settings, buyer, shops
):
    with inline(settings):
        period = period_to_settle(buyer=buyer, shops=shops, orders=5)
        earlier = settled_ids()
        reference = one_clean_run()
    assert len(period.due) == 13  # batches of 5, 5 and 3
    first_batch, second_batch = period.due[:BATCH], period.due[BATCH : 2 * BATCH]
    stuck = VendorOrder.objects.get(pk=second_batch[0])
    victim, w1 = pool["victim"], pool["w1"]

    with side_session(application_name="test-blocks-the-second-batch") as session:
        with session.transaction():
            # An uncommitted settlement of the second batch's first shop order: the worker's INSERT
            # of the batch's settlements (the batch's last statement, after its entries, postings
            # and split calls) waits on it, since a shop order has one settlement.
            session.execute(
                f"INSERT INTO {Settlement._meta.db_table} (vendor_order_id, vendor_id, payment_id, currency,"
                " vendor_amount, commission, referral, promotion, subsidy, netted, settled_at)"
                " VALUES (%s, %s, %s, 'CNY', 0, 0, 0, 0, 0, 0, now())",
                [stuck.pk, stuck.vendor_id, Payment.objects.get(order=stuck.order_id).pk],
            )
            job = settlement_run.apply_async(queue=victim.queue)
            wait_for(
                lambda: any(
                    s["wait_event_type"] == "Lock" and f'INSERT INTO "{Settlement._meta.db_table}"' in s["query"]
                    for s in sessions_of(victim.application_name)
                ),
                what="the worker to be inside the second batch, writing its settlements",
            )
            assert settled_ids() == sorted(earlier + first_batch)  # the first batch is committed
            victim.kill()
            raise psycopg.Rollback()  # the test's row goes away; the dead worker's batch is still open
    # Its database session notices the client is gone and rolls the batch back.
    wait_for(lambda: not sessions_of(victim.application_name), what="the killed worker's session to end")

    assert settled_ids() == sorted(earlier + first_batch)
    assert half_written() == []
    assert not JournalEntry.objects.filter(idempotency_key__in=[f"settle:vo:{pk}" for pk in second_batch]).exists()
    assert not ProviderCall.objects.filter(external_id__in=[f"split-{pk}" for pk in second_batch]).exists()
    assert ledger_problems() == []

    # The job was never acknowledged: the broker hands it to another worker (acks_late), which
    # settles the rest.
    replies = celery_app.control.add_consumer(victim.queue, destination=[w1.hostname], reply=True)
    assert replies and w1.hostname in replies[0]
    try:
        broker_redeliver_unacked()
        assert int(w1.outcome(job.id)) == len(period.due) - BATCH
    finally:
        celery_app.control.cancel_consumer(victim.queue, destination=[w1.hostname], reply=True)
    wait_until_idle(all_queues(pool))

    assert settled() == reference
    assert half_written() == []
    assert ledger_problems() == []


# --- The same notification ten times at once ---------------------------------------------------


def post_ten_times_at_once(live_server, url: str, body: bytes, headers: dict) -> list[tuple[int, dict]]:
    """Ten threads POST the same signed notification to the running server at the same moment."""
    barrier = threading.Barrier(10)
    answers: list[tuple[int, dict]] = []

    def post() -> None:
        request = urllib.request.Request(live_server.url + url, data=body, headers=headers, method="POST")
        try:
            barrier.wait()
            try:
                with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - the test server
                    answers.append((response.status, json.loads(response.read())))
            except urllib.error.HTTPError as error:
                answers.append((error.code, json.loads(error.read())))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_the_same_capture_notification_ten_times_at_once_captures_and_splits_once(live_server, buyer, shops):
    client = Client()
    client.force_login(buyer)
    payment, charge = start_payment(client, order_for(buyer=buyer, vendors=shops))
    press(client, charge, "pay")
    body = sandbox.notification_body(charge)

    def captured() -> tuple:
        return (
            ledger_snapshot(),
            list(LineSplit.objects.order_by("order_line_id", "vendor_order_id").values_list(
                "vendor_order_id", "order_line_id", "paid", "vendor_amount", "commission", "fee")),
            Payment.objects.get(pk=payment.pk).status,
            WebhookEvent.objects.count(),
            OrderEvent.objects.filter(order=payment.order_id, type="paid").count(),
        )  # fmt: skip

    with transaction.atomic():  # one delivery, rolled back: the reference
        assert deliver(client, body).status_code == 200
        once = captured()
        transaction.set_rollback(True)
    assert once[2] == Payment.Status.CAPTURED and len(once[1]) == 6  # a line and shipping per shop
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.PENDING

    answers = post_ten_times_at_once(live_server, WEBHOOK_URL, body, sandbox.signed_headers(body))

    assert sorted(answers, key=str) == [(200, {"status": "captured"})] + [(200, {"status": "duplicate"})] * 9
    assert captured() == once
    assert JournalEntry.objects.filter(kind="capture").count() == 3  # one per shop order
    assert AuditEvent.objects.filter(action="payment.captured").count() == 1
    assert ledger_problems() == []


BANK_SECRET = "the-bank-and-we-share-this"


def bank_signed(message: dict) -> tuple[bytes, dict]:
    """A notification as the bank signs it (its own HMAC code, not ours)."""
    body = json.dumps(message, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    signature = hmac.new(BANK_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Bank-Timestamp": timestamp, "X-Bank-Signature": signature}


def test_the_same_call_outcome_notification_ten_times_at_once_confirms_the_refund_once(
    live_server, settings, buyer, shop_a
):
    """A bank transfer paid ¥100 too much; the excess goes back by an outgoing transfer (a
    provider call awaiting confirmation), which the bank confirms ten times at once."""
    settings.PAYMENT_PROVIDERS = ["sandbox", "bank_transfer"]
    settings.BANK_TRANSFER_PAYEE_NAME = "Yinlian Payments Co. - client collection account"
    settings.BANK_TRANSFER_PAYEE_ACCOUNT = "3100 6611 0180 1234 567"
    settings.BANK_TRANSFER_PAYEE_BANK = "Bank of Communications, Shanghai Pudong branch"
    settings.BANK_TRANSFER_NOTIFY_SECRET = BANK_SECRET
    client = Client()
    client.force_login(buyer)
    order = order_for(buyer=buyer, vendors=[shop_a], quantity=1, price="990.00")  # ¥1,000.00 with shipping
    assert client.post(f"/payments/start/{order.number}/", {"provider": "bank_transfer"}).status_code == 302
    payment = Payment.objects.get(order=order)
    body, headers = bank_signed(
        {
            "notify_id": "NTF00000001", "type": "credit", "bank_txn_id": "BOCOM0000000001",
            "reference": payment.bank_transfer.reference_code, "amount": "1100.00", "currency": "CNY",
            "value_date": timezone.localdate().isoformat(), "payer_name": "Shanghai Lianhe Trading Co., Ltd.",
            "payer_account": "6222 0210 0100 8888",
        }
    )  # fmt: skip
    url = "/payments/webhooks/bank_transfer/"
    assert client.post(url, data=body, content_type="application/json", headers=headers).json() == {
        "status": "overpaid"
    }
    refund = Refund.objects.get(payment=payment)
    call = ProviderCall.objects.get(pk=refund.call_id)
    assert (call.status, refund.amount) == (ProviderCall.Status.SENT, D("100.00"))
    body, headers = bank_signed(
        {
            "notify_id": f"NTF-R-{call.external_id}", "type": "refund", "refund_id": call.external_id,
            "bank_txn_id": "BOCOM-OUT-1", "amount": "100.00", "currency": "CNY", "status": "succeeded",
        }
    )  # fmt: skip

    def confirmed() -> tuple:
        return (
            ledger_snapshot(),
            ProviderCall.objects.get(pk=call.pk).status,
            Refund.objects.get(pk=refund.pk).status,
            AuditEvent.objects.filter(action__in=["provider_call.succeeded", "refund.succeeded"]).count(),
        )

    with transaction.atomic():  # one delivery, rolled back: the reference
        answer = client.post(url, data=body, content_type="application/json", headers=headers)
        assert answer.json() == {"status": "call_succeeded"}
        once = confirmed()
        transaction.set_rollback(True)
    assert once[1:] == (ProviderCall.Status.SUCCEEDED, Refund.Status.SUCCEEDED, 2)
    assert Refund.objects.get(pk=refund.pk).status == Refund.Status.SENT

    answers = post_ten_times_at_once(live_server, url, body, headers)

    assert sorted(answers, key=str) == [(200, {"status": "call_succeeded"})] + [(200, {"status": "duplicate"})] * 9
    assert confirmed() == once
    assert JournalEntry.objects.filter(idempotency_key=f"refund:{refund.reference}:confirmed").count() == 1
    assert ledger_problems() == []


# --- Provider calls from the workers ------------------------------------------------------------


def shop_with_money_to_pay_out(settings, *, buyer, shop) -> Decimal:
    with inline(settings):
        order, _payment = paid_order(buyer=buyer, items={shop: [(VariantFactory(product__vendor=shop), 2)]})
        complete(order.vendor_orders.get(), delivered_days_ago=8)
        settle_due()
    available = available_money(owner_type="vendor", owner_key=shop.pk, currency="CNY")
    assert available > 0
    return available


def refused_by_the_gateway(pool: dict[str, Worker], external_id: str) -> int:
    pattern = re.compile(rf"sandbox gateway down: payout {re.escape(external_id)} refused")
    return sum(len(pattern.findall(worker.log())) for worker in pool.values())


def test_a_payout_the_gateway_cannot_take_is_retried_with_backoff_under_the_same_id_until_paid(
    pool, settings, buyer, shop_a
):
    available = shop_with_money_to_pay_out(settings, buyer=buyer, shop=shop_a)
    sandbox.sandbox_outage(instructions=2)  # the gateway is down for the next two instructions
    w1 = pool["w1"]

    payout = payout_request(owner_type="vendor", owner_key=shop_a.pk, currency="CNY", actor=None)

    call = ProviderCall.objects.get(pk=payout.call_id)
    # A worker sends it after commit; the gateway cannot take it; it waits 30 s for the next try.
    call = wait_for(lambda: ProviderCall.objects.filter(pk=call.pk, attempts=1).exclude(last_error="").first())
    assert call.status == ProviderCall.Status.PENDING
    assert timedelta(seconds=20) < call.next_attempt_at - timezone.now() <= timedelta(seconds=30)
    sweep = provider_calls_sweep.apply_async(queue=w1.queue)
    assert w1.outcome(sweep.id) == "0"  # not before the backoff has passed

    ProviderCall.objects.filter(pk=call.pk).update(next_attempt_at=timezone.now())  # time passes
    sweep = provider_calls_sweep.apply_async(queue=w1.queue)
    assert w1.outcome(sweep.id) == "1"
    call.refresh_from_db()
    assert (call.status, call.attempts) == (ProviderCall.Status.PENDING, 2)
    assert timedelta(seconds=50) < call.next_attempt_at - timezone.now() <= timedelta(seconds=60)  # twice as long

    ProviderCall.objects.filter(pk=call.pk).update(next_attempt_at=timezone.now())  # time passes
    sweep = provider_calls_sweep.apply_async(queue=w1.queue)
    assert w1.outcome(sweep.id) == "1"
    call.refresh_from_db()
    payout.refresh_from_db()
    assert (call.status, call.attempts) == (ProviderCall.Status.SUCCEEDED, 3)
    assert (payout.status, payout.amount) == (Payout.Status.PAID, available)
    # The gateway saw one instruction id three times: refused twice, executed once.
    assert call.external_id == payout.reference
    assert refused_by_the_gateway(pool, call.external_id) == 2
    assert list(SandboxOperation.objects.filter(kind="payout").values_list("external_id", "amount")) == [
        (payout.reference, available)
    ]
    assert JournalEntry.objects.filter(idempotency_key=f"payout:{payout.reference}:paid").count() == 1
    assert ledger_problems() == []


def test_the_same_payout_call_sent_ten_times_by_two_workers_pays_once(pool, settings, buyer, shop_a):
    available = shop_with_money_to_pay_out(settings, buyer=buyer, shop=shop_a)
    w1, w2 = pool["w1"], pool["w2"]
    sandbox.sandbox_outage(instructions=1)  # the first send fails, so the call is still to send

    payout = payout_request(owner_type="vendor", owner_key=shop_a.pk, currency="CNY", actor=None)
    wait_for(lambda: ProviderCall.objects.filter(pk=payout.call_id, attempts=1).exclude(last_error="").exists())
    ProviderCall.objects.filter(pk=payout.call_id).update(next_attempt_at=timezone.now())  # due again
    jobs = [
        (worker, provider_call_send.apply_async(args=[payout.call_id], queue=worker.queue)) for worker in [w1, w2] * 5
    ]

    for worker, job in jobs:
        worker.outcome(job.id)  # each ran to the end without an error
    call = ProviderCall.objects.get(pk=payout.call_id)
    assert call.attempts == 2  # the refused send and one of the ten: the others found it taken or done
    assert SandboxOperation.objects.filter(kind="payout", external_id=payout.reference).count() == 1
    payout.refresh_from_db()
    assert (payout.status, payout.amount) == (Payout.Status.PAID, available)
    assert JournalEntry.objects.filter(idempotency_key=f"payout:{payout.reference}:paid").count() == 1
    assert available_money(owner_type="vendor", owner_key=shop_a.pk, currency="CNY") == 0
    assert ledger_problems() == []
