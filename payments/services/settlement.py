"""Settlement (PAYMENTS.md section 3.2, invariants 9, 10, 17 and 19).

A shop order is due when it is completed, its return window (settings.RETURN_WINDOW_DAYS after
delivery) has passed, it has no open return, and it was captured (has splits). Settling it moves
what is still pending for it (its splits less the refunds already made) from pending to
available for the shop, each referrer and the platform's commission, and queues the split
instruction to the provider: one Settlement row and one ProviderCall per shop order, and one
journal entry per shop and currency in the batch whose postings are the sums of its
settlements; each unique in the database (the settlement per shop order, the call per external
id, the entry per idempotency key, `settle:vo:<its first shop order>`). docs/payments.md says
why the entry is per shop and batch (the settlement benchmark) and how invariant 19 still holds.

The work is set-wise: each batch is a handful of INSERT ... SELECT statements over a temporary
table of the batch's amounts, not a Python round trip per order, and one transaction, so a
worker killed half-way leaves nothing behind and the next run does the whole batch. Batches are
serialised by a PostgreSQL advisory lock: a second worker running the same job at the same time
waits, then finds nothing left to do, so the ledger is the same as after one clean run.

A shop whose available balance is negative (a claw-back after an earlier settlement) has that
debt netted: the split instruction sends it its share less what it owes (Settlement.netted),
the ledger simply adds the share to the negative balance.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from marketplace.money import quantize
from marketplace.services import audit_record
from orders.models import ReturnRequest, VendorOrder
from orders.services.sql import in_placeholders
from payments import ledger
from payments.models import (
    JournalEntry,
    LedgerAccount,
    LineSplit,
    Payment,
    Posting,
    ProviderCall,
    RefundLine,
    Settlement,
)
from payments.providers.base import Receiver
from payments.services.calls import ReceiverMissing, receiver_account_for

logger = logging.getLogger(__name__)

SETTLEMENT_LOCK = 73_110_001  # pg_advisory_xact_lock key: one settlement batch at a time


@dataclass(frozen=True)
class SettleResult:
    settled: int
    batches: int
    cutoff: datetime


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _pg() -> bool:
    return connection.vendor == "postgresql"


def settle_due(
    *,
    now: datetime | None = None,
    until: datetime | None = None,
    batch_size: int | None = None,
    only_ids: list[int] | None = None,
) -> SettleResult:
    """Settles every shop order due at `until` (default: now; never later than now).

    `only_ids`: settle these completed shop orders now even inside their return window (the
    frozen-money watch does it before a provider's deadline); every other condition holds."""
    now = now or timezone.now()
    until = min(until or now, now)
    cutoff = now if only_ids else until - timedelta(days=settings.RETURN_WINDOW_DAYS)
    batch_size = batch_size or settings.SETTLEMENT_BATCH_SIZE
    settled = batches = 0
    while True:
        count = _settle_batch(cutoff=cutoff, now=now, batch_size=batch_size, only_ids=only_ids)
        if count is None:
            break
        settled += count
        batches += 1
    if settled:
        from payments.tasks import provider_calls_sweep

        provider_calls_sweep.delay()
    logger.info("settled %s shop orders in %s batches (window ended by %s)", settled, batches, cutoff)
    return SettleResult(settled=settled, batches=batches, cutoff=cutoff)


def _due_ids(*, cutoff: datetime, batch_size: int, only_ids: list[int] | None = None) -> list[int]:
    open_statuses = list(ReturnRequest.OPEN_STATUSES)
    only, only_params = _ids_clause(only_ids) if only_ids else ("IS NOT NULL", [])
    sql = f"""
        SELECT vo.id FROM {_t(VendorOrder)} vo
        WHERE vo.status = %s
          AND COALESCE(vo.delivered_at, vo.completed_at) <= %s
          AND NOT EXISTS (SELECT 1 FROM {_t(Settlement)} s WHERE s.vendor_order_id = vo.id)
          AND NOT EXISTS (SELECT 1 FROM {_t(ReturnRequest)} r
                          WHERE r.vendor_order_id = vo.id AND r.status IN ({in_placeholders(open_statuses)}))
          AND EXISTS (SELECT 1 FROM {_t(LineSplit)} ls WHERE ls.vendor_order_id = vo.id)
          AND vo.id {only}
        ORDER BY vo.id LIMIT %s
    """
    if _pg():
        sql += " FOR UPDATE OF vo SKIP LOCKED"
    with connection.cursor() as cursor:
        cursor.execute(sql, [VendorOrder.Status.COMPLETED, cutoff, *open_statuses, *only_params, batch_size])
        return [row[0] for row in cursor.fetchall()]


def _ids_clause(ids: list[int]) -> tuple[str, list]:
    if _pg():
        return "= ANY(%s)", [ids]
    return f"IN ({in_placeholders(ids)})", list(ids)


def _settle_batch(*, cutoff: datetime, now: datetime, batch_size: int, only_ids: list[int] | None) -> int | None:
    """One batch in one transaction; None when nothing is due any more."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            if _pg():
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SETTLEMENT_LOCK])
                # The batch's statements are estimated dear (per-row subqueries over thousands of
                # rows) but run in milliseconds: JIT compiling them would cost about a second each.
                cursor.execute("SET LOCAL jit = off")
            ids = _due_ids(cutoff=cutoff, batch_size=batch_size, only_ids=only_ids)
            if not ids:
                return None
            settled = _write_batch(cursor=cursor, ids=ids, now=now)
        audit_record(
            actor=None,
            action="settlement.batch",
            obj=None,
            data={"vendor_orders": settled, "first": ids[0], "last": ids[-1], "cutoff": cutoff.isoformat()},
        )
    return settled


def _new_ids(cursor, model, order: str, *, after: int = 0) -> str:
    """An SQL expression giving each row of a SELECT a fresh primary key of `model`, so that the
    rows a batch writes refer to each other by id instead of joining on their text keys.
    PostgreSQL draws from the table's sequence (named once: looking it up per row costs more
    than the draw); SQLite (embedded, one writer at a time) counts on from the largest id, past
    `after` ids already drawn by the same statement."""
    if _pg():
        sequence = _fetch(cursor, "SELECT pg_get_serial_sequence(%s, 'id')", [model._meta.db_table])[0][0]
        return f"nextval('{sequence}')"
    return f"(SELECT COALESCE(MAX(id), 0) FROM {_t(model)}) + ROW_NUMBER() OVER (ORDER BY {order}) + {int(after)}"


def _subsidizing_providers() -> str:
    """The SQL list of the enabled providers that take a platform subsidy before a split."""
    from payments.providers import PROVIDER_CLASSES, get_provider_class

    codes = [code for code in PROVIDER_CLASSES if get_provider_class(code).capabilities.can_subsidize]
    assert all(code.replace("_", "").isalnum() for code in codes)  # our own codes, inlined in SQL
    return ", ".join(f"'{code}'" for code in codes) or "NULL"


def _write_batch(*, cursor, ids: list[int], now: datetime) -> int:
    """Settles the locked shop orders `ids`; returns how many were settled."""
    greatest, least = ("GREATEST", "LEAST") if _pg() else ("MAX", "MIN")
    json_text = "CAST(%s AS jsonb)" if _pg() else "%s"
    json_object = (
        f"{'jsonb_build_object' if _pg() else 'json_object'}('vendor', vendor_id, 'shop_orders', shop_orders, "
        "'first_vendor_order', first_vo, 'last_vendor_order', last_vo)"
    )
    key = "VARCHAR(64)"
    accounts = _t(LedgerAccount)
    in_ids, id_params = _ids_clause(ids)
    # _due_ids locked the rows, but judged "no open return" on the snapshot its statement
    # started with: a return opened (under the row's lock) and committed just before the lock was
    # taken would be missed. The amounts are read by a new statement, which sees it: such a shop
    # order is left out of the batch.
    open_statuses = list(ReturnRequest.OPEN_STATUSES)
    for table in ("settle_batch", "settle_entries", "settle_referrals", "settle_owed"):
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
    # What is still pending per shop order: its splits less the refunds already made of them.
    refunded = f"""
        SELECT rl.split_id, SUM(rl.vendor_amount) AS vendor_amount, SUM(rl.commission) AS commission,
               SUM(rl.referral) AS referral, SUM(rl.platform_discount) AS platform_discount
        FROM {_t(RefundLine)} rl JOIN {_t(LineSplit)} s2 ON s2.id = rl.split_id
        WHERE s2.vendor_order_id {in_ids} GROUP BY rl.split_id
    """
    amounts = f"""
        SELECT ls.vendor_order_id AS vo_id, ls.vendor_id, ls.payment_id, ls.currency,
               SUM(ls.vendor_amount - COALESCE(r.vendor_amount, 0)) AS vendor_amount,
               SUM(ls.commission - COALESCE(r.commission, 0)) AS commission,
               SUM(ls.referral - COALESCE(r.referral, 0)) AS referral,
               SUM(ls.platform_discount - COALESCE(r.platform_discount, 0)) AS promotion,
               SUM(ls.platform_discount - COALESCE(r.platform_discount, 0)
                   - {least}(ls.platform_discount - COALESCE(r.platform_discount, 0),
                             {greatest}(ls.commission - COALESCE(r.commission, 0), 0))) AS uncovered
        FROM {_t(LineSplit)} ls LEFT JOIN ({refunded}) r ON r.split_id = ls.id
        WHERE ls.vendor_order_id {in_ids}
          AND NOT EXISTS (SELECT 1 FROM {_t(ReturnRequest)} rr WHERE rr.vendor_order_id = ls.vendor_order_id
                          AND rr.status IN ({in_placeholders(open_statuses)}))
        GROUP BY ls.vendor_order_id, ls.vendor_id, ls.payment_id, ls.currency
    """
    # A shop order with nothing left to move (all refunded) gets a Settlement but no entry and
    # no instruction. The others get the id of their split call up front, and share one entry per
    # shop and currency in the batch (keyed by its first shop order), so that the rows of a batch
    # refer to each other by id: no join on text keys, and the ledger grows by a few rows per shop
    # and batch rather than five per shop order.
    moving = "(a.vendor_amount <> 0 OR a.commission <> 0 OR a.referral <> 0)"
    # Platform coupons the lines' commission cannot cover are paid into the payment by the
    # platform before the split (a subsidy call the split waits for), where the provider can.
    subsidized = f"{moving} AND a.uncovered > 0 AND a.provider IN ({_subsidizing_providers()})"
    # The split of the payment's last shop order to settle carries {"finish": true}: once it is
    # done, the provider is told to finish splitting and unfreeze the rest (WeChat's 完结分账),
    # which split-capable providers require (calls.call_outcome queues that call). "Last": the
    # highest of the order's shop orders in this batch, when every shop order of the order still
    # unsettled (and not cancelled) is in the batch: one index probe per row to count them.
    unsettled_of_order = f"""
        SELECT COUNT(*) FROM {_t(VendorOrder)} vo2
        WHERE vo2.order_id = a.order_id AND vo2.status <> %s
          AND NOT EXISTS (SELECT 1 FROM {_t(Settlement)} st WHERE st.vendor_order_id = vo2.id)
    """
    cursor.execute(
        f"""
        CREATE TEMP TABLE settle_batch AS
        SELECT a.*, a.vendor_amount * 0 AS netted,
               CASE WHEN {subsidized} THEN a.uncovered ELSE a.uncovered * 0 END AS subsidy,
               CASE WHEN {moving} THEN {_new_ids(cursor, ProviderCall, "a.vo_id")} END AS call_id,
               CASE WHEN {subsidized} THEN {_new_ids(cursor, ProviderCall, "a.vo_id", after=len(ids))} END
                   AS subsidy_call_id,
               CASE WHEN {moving}
                     AND a.vo_id = MAX(CASE WHEN {moving} THEN a.vo_id END) OVER (PARTITION BY a.order_id)
                     AND COUNT(*) OVER (PARTITION BY a.order_id) = ({unsettled_of_order})
                    THEN 1 ELSE 0 END AS finish
        FROM (SELECT amounts.*, p.provider, p.order_id
              FROM ({amounts}) amounts JOIN {_t(Payment)} p ON p.id = amounts.payment_id) a
        """,
        [VendorOrder.Status.CANCELLED, *id_params, *id_params, *open_statuses],
    )
    cursor.execute(
        f"""
        CREATE TEMP TABLE settle_entries AS
        SELECT g.*, {_new_ids(cursor, JournalEntry, "g.first_vo")} AS entry_id
        FROM (SELECT vendor_id, currency, MIN(vo_id) AS first_vo, MAX(vo_id) AS last_vo, COUNT(*) AS shop_orders,
                     SUM(vendor_amount) AS vendor_amount, SUM(commission) AS commission
              FROM settle_batch WHERE call_id IS NOT NULL GROUP BY vendor_id, currency) g
        """
    )
    cursor.execute(
        f"""
        CREATE TEMP TABLE settle_referrals AS
        SELECT e.entry_id, ls.referrer_id, ls.currency, SUM(ls.referral - COALESCE(r.referral, 0)) AS amount
        FROM {_t(LineSplit)} ls
        JOIN settle_batch b ON b.vo_id = ls.vendor_order_id
        JOIN settle_entries e ON e.vendor_id = b.vendor_id AND e.currency = b.currency AND b.call_id IS NOT NULL
        LEFT JOIN ({refunded}) r ON r.split_id = ls.id
        WHERE ls.vendor_order_id {in_ids} AND ls.referrer_id IS NOT NULL  -- line_split_referral_idx
        GROUP BY e.entry_id, ls.referrer_id, ls.currency
        """,
        id_params + id_params,
    )
    # Accounts the entries need (the pending ones exist since the capture).
    for currency in {row[0] for row in _fetch(cursor, "SELECT DISTINCT currency FROM settle_batch")}:
        ledger.platform_account(ledger.COMMISSION, currency)
        ledger.platform_account(ledger.COMMISSION_PENDING, currency)
    for owner_type, source, owner in (
        ("vendor", "settle_batch", "vendor_id"),
        ("referrer", "settle_referrals", "referrer_id"),
    ):
        cursor.execute(
            f"""
            INSERT INTO {accounts} (owner_type, owner_key, purpose, currency, created_at)
            SELECT DISTINCT %s, CAST({owner} AS {key}), %s, currency, %s FROM {source} WHERE 1 = 1
            ON CONFLICT (owner_type, owner_key, purpose, currency) DO NOTHING
            """,
            [owner_type, ledger.AVAILABLE, now],
        )

    # What each shop owed before this batch (a positive balance of its credit-normal available account).
    cursor.execute(
        f"""
        CREATE TEMP TABLE settle_owed AS
        SELECT a.owner_key, a.currency, SUM(p.amount) AS owed
        FROM {accounts} a JOIN {_t(Posting)} p ON p.account_id = a.id
        WHERE a.owner_type = 'vendor' AND a.purpose = %s
          AND a.owner_key IN (SELECT DISTINCT CAST(vendor_id AS {key}) FROM settle_batch)
        GROUP BY a.owner_key, a.currency
        """,
        [ledger.AVAILABLE],
    )

    # The debt is netted against the batch's shares in shop-order order.
    cursor.execute(
        f"""
        UPDATE settle_batch SET netted = n.netted FROM (
            SELECT s.vo_id, {least}(s.vendor_amount, {greatest}(0, o.owed - (
                       SUM(s.vendor_amount) OVER (PARTITION BY s.vendor_id, s.currency ORDER BY s.vo_id)
                       - s.vendor_amount))) AS netted
            FROM settle_batch s
            JOIN settle_owed o ON o.owner_key = CAST(s.vendor_id AS {key}) AND o.currency = s.currency
            WHERE o.owed > 0) n
        WHERE n.vo_id = settle_batch.vo_id
        """
    )

    cursor.execute(
        f"""
        INSERT INTO {_t(JournalEntry)} (id, idempotency_key, kind, memo, effective_at, created_at, reference,
                                        reverses_id)
        SELECT entry_id, 'settle:vo:' || first_vo, 'settlement',
               'Settlement of ' || shop_orders || ' shop order(s) of shop ' || vendor_id, %s, %s,
               {json_object}, NULL
        FROM settle_entries WHERE 1 = 1  -- SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT
        ON CONFLICT (idempotency_key) DO NOTHING
        """,
        [now, now],
    )
    _all_written(cursor, "settlement entries", "SELECT COUNT(*) FROM settle_entries")

    # Each entry moves its shop's, the platform's and the referrers' totals of the batch.
    legs = f"""
        SELECT entry_id, 'vendor' AS owner_type, CAST(vendor_id AS {key}) AS owner_key, '{ledger.PENDING}' AS purpose,
               currency, vendor_amount AS amount FROM settle_entries
        UNION ALL SELECT entry_id, 'vendor', CAST(vendor_id AS {key}), '{ledger.AVAILABLE}', currency, -vendor_amount
               FROM settle_entries
        UNION ALL SELECT entry_id, 'platform', '', '{ledger.COMMISSION_PENDING}', currency, commission FROM settle_entries
        UNION ALL SELECT entry_id, 'platform', '', '{ledger.COMMISSION}', currency, -commission FROM settle_entries
        UNION ALL SELECT entry_id, 'referrer', CAST(referrer_id AS {key}), '{ledger.PENDING}', currency, amount
               FROM settle_referrals
        UNION ALL SELECT entry_id, 'referrer', CAST(referrer_id AS {key}), '{ledger.AVAILABLE}', currency, -amount
               FROM settle_referrals
    """
    cursor.execute(
        f"""
        INSERT INTO {_t(Posting)} (entry_id, account_id, amount, currency)
        SELECT x.entry_id, a.id, x.amount, x.currency
        FROM ({legs}) x
        JOIN {accounts} a ON a.owner_type = x.owner_type AND a.owner_key = x.owner_key
                         AND a.purpose = x.purpose AND a.currency = x.currency
        WHERE x.amount <> 0
        ORDER BY x.entry_id, x.owner_type DESC, x.purpose
        """
    )
    json_build = "jsonb_build_object" if _pg() else "json_object"
    cursor.execute(
        f"""
        INSERT INTO {_t(ProviderCall)} (id, provider, kind, external_id, payment_id, status, payload, response,
                                        provider_reference, attempts, last_error, created_at)
        SELECT s.subsidy_call_id, s.provider, %s, 'subsidy-' || s.vo_id, s.payment_id, %s,
               {json_build}('amount', CAST(ROUND(s.subsidy, 2) AS TEXT), 'currency', s.currency),
               %s, '', 0, '', %s
        FROM settle_batch s
        WHERE s.subsidy_call_id IS NOT NULL
        ON CONFLICT (external_id) DO NOTHING
        """,
        [ProviderCall.Kind.SUBSIDY, ProviderCall.Status.PENDING, "{}", now],
    )
    _all_written(cursor, "subsidy calls", "SELECT COUNT(*) FROM settle_batch WHERE subsidy_call_id IS NOT NULL")
    cursor.execute(
        f"""
        INSERT INTO {_t(ProviderCall)} (id, provider, kind, external_id, payment_id, status, payload, response,
                                        provider_reference, attempts, last_error, created_at, after_id)
        SELECT s.call_id, s.provider, %s, 'split-' || s.vo_id, s.payment_id,
               CASE WHEN s.subsidy_call_id IS NULL THEN %s ELSE %s END,
               CASE WHEN s.finish = 0 THEN {json_text} ELSE {json_text} END,
               %s, '', 0, '', %s, s.subsidy_call_id
        FROM settle_batch s
        WHERE s.call_id IS NOT NULL
        ON CONFLICT (external_id) DO NOTHING
        """,
        [
            ProviderCall.Kind.SPLIT,
            ProviderCall.Status.PENDING,
            ProviderCall.Status.WAITING,
            "{}",
            '{"finish": true}',
            "{}",
            now,
        ],
    )
    _all_written(cursor, "split instructions", "SELECT COUNT(*) FROM settle_batch WHERE call_id IS NOT NULL")
    cursor.execute(
        f"""
        INSERT INTO {_t(Settlement)} (vendor_order_id, vendor_id, payment_id, currency, vendor_amount, commission,
                                      referral, promotion, subsidy, netted, entry_id, instruction_id, settled_at)
        SELECT s.vo_id, s.vendor_id, s.payment_id, s.currency, s.vendor_amount, s.commission, s.referral, s.promotion,
               s.subsidy, s.netted, e.entry_id, s.call_id, %s
        FROM settle_batch s
        LEFT JOIN settle_entries e ON e.vendor_id = s.vendor_id AND e.currency = s.currency AND s.call_id IS NOT NULL
        """,
        [now],
    )
    settled = _fetch(cursor, "SELECT COUNT(*) FROM settle_batch")[0][0]
    for table in ("settle_batch", "settle_entries", "settle_referrals", "settle_owed"):
        cursor.execute(f"DROP TABLE {table}")
    return settled


def _fetch(cursor, sql: str, params=None) -> list[tuple]:
    cursor.execute(sql, params or [])
    return cursor.fetchall()


def _all_written(cursor, what: str, count_sql: str) -> None:
    """After an INSERT ... ON CONFLICT DO NOTHING: every row of the batch was new. Anything else
    means rows were written outside the settlement lock: refuse loudly, and the batch rolls back."""
    written = cursor.rowcount
    expected = _fetch(cursor, count_sql)[0][0]
    if written != expected:
        raise RuntimeError(f"{what} already exist for part of the batch ({written}/{expected})")


@dataclass(frozen=True)
class SplitLine:
    """One line's split as it stood at settlement: the capture's split less refunds made before."""

    vendor_amount: Decimal
    commission: Decimal
    referral: Decimal
    promotion: Decimal
    referrer_id: int | None


def split_lines(vendor_order_ids) -> dict[int, list[SplitLine]]:
    """The lines of these shop orders' splits, less the refunds before their settlement (two queries)."""
    refunded = {
        row["split_id"]: row
        for row in RefundLine.objects.filter(
            split__vendor_order_id__in=vendor_order_ids, refund__after_settlement=False
        )
        .values("split_id")
        .annotate(
            vendor_amount=Sum("vendor_amount"),
            commission=Sum("commission"),
            referral=Sum("referral"),
            promotion=Sum("platform_discount"),
        )
        .order_by()
    }
    lines: dict[int, list[SplitLine]] = {}
    for split in LineSplit.objects.filter(vendor_order_id__in=vendor_order_ids).order_by("id"):
        back = refunded.get(split.pk, {})
        lines.setdefault(split.vendor_order_id, []).append(
            SplitLine(
                vendor_amount=split.vendor_amount - (back.get("vendor_amount") or 0),
                commission=split.commission - (back.get("commission") or 0),
                referral=split.referral - (back.get("referral") or 0),
                promotion=split.platform_discount - (back.get("promotion") or 0),
                referrer_id=split.referrer_id,
            )
        )
    return lines


def split_parts(*, settlement: Settlement, lines: list[SplitLine] | None = None) -> list[tuple[str, str, Decimal]]:
    """What a settlement's split instruction routes, receiver by receiver (non-positive parts are
    not sent). Each line's money goes to that line's parties, so that a later refund of some
    lines finds their money with the receivers who got it (invariant 21). A platform coupon on a
    line is paid out of that line's commission; what the commission cannot cover the platform
    paid into the payment before the split (Settlement.subsidy), so the shop and the referrer get
    their whole shares. Where the provider could take no subsidy, only money the buyer paid is
    split: the uncovered coupon comes off the line's shop share, then the line's referrer, and
    the platform owes it outside the split. The shop's part is then less what it owed from
    earlier claw-backs (netted); what its part cannot cover is kept back from the platform's
    part, never from a referrer. The parts never add up to more than the payment holds."""
    if lines is None:  # callers settling many at once read their lines together (split_lines)
        lines = split_lines([settlement.vendor_order_id]).get(settlement.vendor_order_id, [])
    vendor = platform = Decimal(0)
    referrals: dict[int, Decimal] = {}
    subsidized = settlement.subsidy > 0
    for line in lines:
        covered = min(line.promotion, max(line.commission, Decimal(0)))
        shop = line.vendor_amount - (Decimal(0) if subsidized else line.promotion - covered)
        short = max(-shop, Decimal(0))
        referral = line.referral - min(line.referral, short)
        short -= line.referral - referral
        vendor += max(shop, Decimal(0))
        platform += line.commission - covered - short
        if line.referrer_id is not None:
            referrals[line.referrer_id] = referrals.get(line.referrer_id, Decimal(0)) + referral
    kept_back = min(settlement.netted, max(vendor, Decimal(0)))
    vendor -= kept_back
    platform -= min(settlement.netted - kept_back, max(platform, Decimal(0)))
    parts = [("vendor", str(settlement.vendor_id), vendor)]
    parts += [("referrer", str(user_id), amount) for user_id, amount in sorted(referrals.items())]
    parts.append(("platform", "", platform))
    return [(owner_type, owner_key, amount) for owner_type, owner_key, amount in parts if amount > 0]


def subsidy_book(*, call: ProviderCall) -> None:
    """The provider took the platform's subsidy into the payment (inside call_outcome's
    transaction): the money it holds grows by it, out of the platform's own funds."""
    currency = call.payload["currency"]
    amount = quantize(Decimal(call.payload["amount"]), currency)
    ledger.ledger_post(
        idempotency_key=f"subsidy:{call.external_id}",
        kind="subsidy",
        postings=[
            (ledger.provider_clearing(call.provider, currency), amount),
            (ledger.platform_account(ledger.FUNDING, currency), -amount),
        ],
        memo=f"Platform subsidy {call.external_id} into payment {call.payment.reference}",
        reference={"payment": call.payment.reference, "call": call.external_id},
    )


def split_receivers(*, call: ProviderCall) -> list[Receiver]:
    """The receivers of a settlement's split instruction, with their accounts at the provider."""
    settlement = Settlement.objects.select_related("payment").get(instruction=call)
    receivers = []
    for owner_type, owner_key, amount in split_parts(settlement=settlement):
        account = receiver_account_for(owner_type=owner_type, owner_key=owner_key, provider=call.provider)
        if account is None:
            raise ReceiverMissing(f"{owner_type} {owner_key or 'platform'} has no receiver account at {call.provider}")
        receivers.append(
            Receiver(account=account.account, kind=owner_type, amount=amount, description=settlement.currency)
        )
    return receivers


def frozen_money_watch(*, now: datetime | None = None) -> dict[str, int]:
    """Invariant 22: money a provider holds frozen is split before the provider's own deadline
    (Payment.freeze_deadline, e.g. 180 days for WeChat Pay), with settings.FREEZE_SAFETY_DAYS to
    spare. Completed shop orders of such payments are settled now even inside their return
    window (a later return is then a claw-back); shop orders that cannot be settled yet (not
    completed, or an open return) are reported to the platform's admins, once per payment and day."""
    from marketplace.models import User
    from marketplace.services import notification_send

    now = now or timezone.now()
    horizon = now + timedelta(days=settings.FREEZE_SAFETY_DAYS)
    payments = Payment.objects.filter(
        status=Payment.Status.CAPTURED, needs_refund=False, freeze_deadline__isnull=False, freeze_deadline__lte=horizon
    )
    unsettled = (
        VendorOrder.objects.filter(order__payments__in=payments, settlement__isnull=True)
        .exclude(status=VendorOrder.Status.CANCELLED)
        .distinct()
    )
    completed = list(unsettled.filter(status=VendorOrder.Status.COMPLETED).values_list("pk", flat=True))
    settled = settle_due(now=now, only_ids=completed).settled if completed else 0
    stuck = list(
        unsettled.exclude(pk__in=Settlement.objects.values("vendor_order_id")).values_list(
            "number", "order__payments__reference", "order__payments__freeze_deadline"
        )
    )
    if stuck:
        admins = User.objects.filter(is_staff=True, is_active=True)
        lines = "\n".join(
            f"{number}: payment {reference}, released by the provider on {deadline:%Y-%m-%d}"
            for number, reference, deadline in stuck
        )
        for admin in admins:
            notification_send(
                user=admin,
                kind="payments.frozen_money",
                title=f"{len(stuck)} shop order(s) hold money the provider will release soon",
                body=lines,
                email=True,
            )
        logger.error("frozen money near the provider's deadline for shop orders: %s", lines)
    return {"settled": settled, "stuck": len(stuck)}
