"""Reads for the payment pages and API. Buyers reach only their own orders and payments."""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext, gettext_lazy

from marketplace.errors import DomainError, NotFound
from marketplace.models import User
from marketplace.money import format_money, quantize
from orders.dashboard_selectors import vendor_order_get_for_vendor
from orders.models import Order, OrderLine, ReturnRequest, VendorOrder
from payments import ledger
from payments.models import (
    BankTransferInstruction,
    LedgerAccount,
    LineSplit,
    Payment,
    Payout,
    Posting,
    ReconciliationRun,
    RefundLine,
    Settlement,
)
from vendors.models import Vendor

ZERO = Decimal(0)


def order_get_for_payer(*, actor: User, number: str) -> Order:
    order = Order.objects.filter(number=number, buyer_id=actor.pk).first() if actor.is_authenticated else None
    if order is None:
        raise NotFound(gettext("Order not found."))
    return order


def payment_get_for_buyer(*, actor: User, reference: str) -> Payment:
    payment = (
        Payment.objects.select_related("order").filter(reference=reference, order__buyer_id=actor.pk).first()
        if actor.is_authenticated
        else None
    )
    if payment is None:
        raise NotFound(gettext("Payment not found."))
    return payment


def bank_transfer_get_for_buyer(*, actor: User, reference: str) -> BankTransferInstruction:
    """The bank transfer instruction of one of the actor's payments (by the payment's reference)."""
    instruction = (
        BankTransferInstruction.objects.select_related("payment__order")
        .filter(payment__reference=reference, payment__order__buyer_id=actor.pk)
        .first()
        if actor.is_authenticated
        else None
    )
    if instruction is None:
        raise NotFound(gettext("Payment not found."))
    return instruction


# --- What a shop sees of its money (vendor dashboard and vendor API) ---------------------------
# Amounts are shown from the shop's side: what the marketplace owes it is positive (the ledger's
# vendor accounts are credit-normal, so every posting's sign is turned).

SHOP_PURPOSES = (ledger.PENDING, ledger.AVAILABLE, ledger.PAYOUT)
STATEMENT_MAX_DAYS = 366
SPLIT_PARTS = ("paid", "platform_discount", "commission", "referral", "fee", "tax", "vendor_amount")


class StatementPeriodInvalid(DomainError):
    code = "invalid_period"
    default_message = "{reason}"


@dataclass(frozen=True)
class Parts:
    """One split's parts (or their sum, or what refunds reversed of them)."""

    paid: Decimal
    platform_discount: Decimal
    commission: Decimal
    referral: Decimal
    fee: Decimal
    tax: Decimal
    vendor_amount: Decimal

    @classmethod
    def zero(cls, currency: str) -> "Parts":
        return cls(*(quantize(ZERO, currency) for _ in SPLIT_PARTS))

    def __add__(self, other: "Parts") -> "Parts":
        return Parts(*(getattr(self, part) + getattr(other, part) for part in SPLIT_PARTS))

    def __sub__(self, other: "Parts") -> "Parts":
        return Parts(*(getattr(self, part) - getattr(other, part) for part in SPLIT_PARTS))


@dataclass(frozen=True)
class LineEarnings:
    """One order line's split (or the shop order's shipping when order_line is None)."""

    order_line: OrderLine | None
    split: Parts
    refunded: Parts
    commission_rate: Decimal
    referral_rate: Decimal
    has_referrer: bool

    @property
    def is_shipping(self) -> bool:
        return self.order_line is None

    @property
    def net(self) -> Parts:
        return self.split - self.refunded


class SettlementState:
    UNPAID = "unpaid"
    AWAITING_DELIVERY = "awaiting_delivery"
    IN_RETURN_WINDOW = "in_return_window"
    HELD = "held"
    AWAITING_COMPLETION = "awaiting_completion"
    DUE = "due"
    SETTLED = "settled"


@dataclass(frozen=True)
class VendorOrderEarnings:
    vendor_order: VendorOrder
    currency: str
    lines: list[LineEarnings]
    state: str
    settles_after: datetime | None  # end of the return window (None before delivery)
    settlement: Settlement | None

    @property
    def total(self) -> Parts:
        return sum((line.split for line in self.lines), Parts.zero(self.currency))

    @property
    def refunded(self) -> Parts:
        return sum((line.refunded for line in self.lines), Parts.zero(self.currency))

    @property
    def net(self) -> Parts:
        return self.total - self.refunded

    @property
    def state_text(self) -> str:
        if self.state == SettlementState.SETTLED:
            return gettext("Settled on %(date)s") % {
                "date": date_format(localtime(self.settlement.settled_at), "Y-m-d")
            }
        if self.state == SettlementState.IN_RETURN_WINDOW:
            return gettext("Pending until %(date)s (end of the return window)") % {
                "date": date_format(localtime(self.settles_after), "Y-m-d H:i")
            }
        return str(SETTLEMENT_STATE_TEXT[self.state]) % {"days": settings.RETURN_WINDOW_DAYS}


SETTLEMENT_STATE_TEXT = {
    SettlementState.UNPAID: gettext_lazy("Not paid yet: nothing to earn so far."),
    SettlementState.AWAITING_DELIVERY: gettext_lazy("Pending until %(days)s days after delivery (the return window)."),
    SettlementState.HELD: gettext_lazy("Held: a return or refund request is open."),
    SettlementState.AWAITING_COMPLETION: gettext_lazy("Pending: settles once the order is completed."),
    SettlementState.DUE: gettext_lazy("Due: settles at the next settlement run."),
}


def _parts(row, currency: str) -> Parts:
    return Parts(*(quantize(row[part] or ZERO, currency) for part in SPLIT_PARTS))


def vendor_order_earnings(*, vendor_order: VendorOrder, now: datetime | None = None) -> VendorOrderEarnings:
    """What the shop earns from one of its orders, line by line (shipping last): the split frozen
    at capture, what refunds have reversed so far, and where the money is (pending until the
    return window ends, held by an open return, or settled). Four queries whatever the lines."""
    now = now or timezone.now()
    currency = vendor_order.currency
    splits = list(
        LineSplit.objects.filter(vendor_order=vendor_order)
        .select_related("order_line")
        .order_by(F("order_line_id").asc(nulls_last=True), "id")
    )
    refunded = {
        row["split_id"]: _parts(row, currency)
        for row in RefundLine.objects.filter(split__vendor_order=vendor_order)
        .values("split_id")
        .annotate(**{part: Sum(part) for part in SPLIT_PARTS})
        .order_by()
    }
    lines = [
        LineEarnings(
            order_line=split.order_line,
            split=Parts(*(getattr(split, part) for part in SPLIT_PARTS)),
            refunded=refunded.get(split.pk, Parts.zero(currency)),
            commission_rate=split.commission_rate,
            referral_rate=split.referral_rate,
            has_referrer=split.referrer_id is not None,
        )
        for split in splits
    ]
    window_start = vendor_order.delivered_at or vendor_order.completed_at
    settles_after = window_start + timedelta(days=settings.RETURN_WINDOW_DAYS) if window_start else None
    settlement = Settlement.objects.filter(vendor_order=vendor_order).first() if splits else None
    if not splits:
        state = SettlementState.UNPAID
    elif settlement is not None:
        state = SettlementState.SETTLED
    elif ReturnRequest.objects.filter(vendor_order=vendor_order, status__in=ReturnRequest.OPEN_STATUSES).exists():
        state = SettlementState.HELD
    elif settles_after is None:
        state = SettlementState.AWAITING_DELIVERY
    elif now < settles_after:
        state = SettlementState.IN_RETURN_WINDOW
    elif vendor_order.status != VendorOrder.Status.COMPLETED:
        state = SettlementState.AWAITING_COMPLETION
    else:
        state = SettlementState.DUE
    return VendorOrderEarnings(
        vendor_order=vendor_order,
        currency=currency,
        lines=lines,
        state=state,
        settles_after=settles_after,
        settlement=settlement,
    )


def vendor_order_earnings_get_for_vendor(*, vendor: Vendor, number: str) -> VendorOrderEarnings:
    """The earnings of one of the shop's orders; NotFound for another shop's number."""
    return vendor_order_earnings(vendor_order=vendor_order_get_for_vendor(vendor=vendor, number=number))


@dataclass(frozen=True)
class ShopBalances:
    """What the marketplace owes the shop in one currency, by where the money is."""

    currency: str
    pending: Decimal  # shares of orders still inside their return window
    available: Decimal  # settled, may be paid out; negative after a claw-back: the shop owes it
    in_payout: Decimal  # payouts sent, not yet confirmed by the provider

    @property
    def owed_by_shop(self) -> Decimal:
        """What the shop owes (refunds clawed back after settlement), netted at its next settlements."""
        return max(-self.available, quantize(ZERO, self.currency))

    @property
    def withdrawable(self) -> Decimal:
        return max(self.available, quantize(ZERO, self.currency))


def _shop_postings(vendor: Vendor):
    return Posting.objects.filter(
        account__owner_type=ledger.VENDOR, account__owner_key=str(vendor.pk), account__purpose__in=SHOP_PURPOSES
    )


def vendor_balances(*, vendor: Vendor) -> list[ShopBalances]:
    """The shop's balances per currency (its own currency first, always present). One query."""
    totals: dict[str, dict[str, Decimal]] = {vendor.currency: {}}
    rows = (
        _shop_postings(vendor)
        .values("account__currency", "account__purpose")
        .annotate(total=Sum("amount"))
        .order_by("account__currency")
    )
    for row in rows:
        totals.setdefault(row["account__currency"], {})[row["account__purpose"]] = row["total"]
    return [
        ShopBalances(
            currency=currency,
            pending=quantize(-by_purpose.get(ledger.PENDING, ZERO), currency),
            available=quantize(-by_purpose.get(ledger.AVAILABLE, ZERO), currency),
            in_payout=quantize(-by_purpose.get(ledger.PAYOUT, ZERO), currency),
        )
        for currency, by_purpose in totals.items()
    ]


def vendor_settlement_list(*, vendor: Vendor) -> QuerySet[Settlement]:
    return Settlement.objects.filter(vendor=vendor).select_related("vendor_order").order_by("-settled_at", "-id")


def vendor_payout_list(*, vendor: Vendor) -> QuerySet[Payout]:
    return (
        Payout.objects.filter(owner_type=ledger.VENDOR, owner_key=str(vendor.pk))
        .select_related("receiver", "requested_by")
        .order_by("-created_at", "-id")
    )


# The movements a statement lists, by journal entry kind (unknown kinds show their code).
MOVEMENT_LABELS = {
    "capture": gettext_lazy("Order paid: your share, pending"),
    "refund": gettext_lazy("Refund before settlement"),
    "refund_after_settlement": gettext_lazy("Refund after settlement (clawed back)"),
    "settlement": gettext_lazy("Settled: made available"),
    "payout": gettext_lazy("Payout requested"),
    "payout_paid": gettext_lazy("Payout paid to your account"),
    "payout_failed": gettext_lazy("Payout failed: re-credited"),
}


@dataclass(frozen=True)
class StatementRow:
    """One ledger entry touching the shop's accounts, as changes of what it is owed."""

    entry_id: int
    at: datetime
    kind: str
    order_number: str
    reference: str
    pending: Decimal
    available: Decimal
    in_payout: Decimal
    available_after: Decimal
    note: str

    @property
    def label(self) -> str:
        return str(MOVEMENT_LABELS.get(self.kind, self.kind))


@dataclass(frozen=True)
class Statement:
    vendor: Vendor
    currency: str
    date_from: date
    date_to: date
    opening: ShopBalances
    rows: list[StatementRow]
    closing: ShopBalances

    @property
    def movements(self) -> ShopBalances:
        zero = quantize(ZERO, self.currency)
        return ShopBalances(
            currency=self.currency,
            pending=sum((row.pending for row in self.rows), zero),
            available=sum((row.available for row in self.rows), zero),
            in_payout=sum((row.in_payout for row in self.rows), zero),
        )


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def statement_default_period(*, now: datetime | None = None) -> tuple[date, date]:
    """This month so far, in the site's time zone."""
    today = timezone.localdate(now or timezone.now())
    return today.replace(day=1), today


def vendor_statement(*, vendor: Vendor, date_from: date, date_to: date, currency: str | None = None) -> Statement:
    """The shop's statement for the days date_from..date_to (inclusive, site time zone): the
    opening balances, every ledger movement of its pending, available and payout accounts in
    between (by effective time), and the closing balances, read from the ledger on their own so
    that closing = opening + movements is a check, not a tautology. Six queries at most."""
    if date_from > date_to:
        raise StatementPeriodInvalid(reason=gettext("The period must start before it ends."))
    if (date_to - date_from).days >= STATEMENT_MAX_DAYS:
        raise StatementPeriodInvalid(
            reason=gettext("A statement covers at most %(days)s days.") % {"days": STATEMENT_MAX_DAYS}
        )
    currency = currency or vendor.currency
    start, end = _day_start(date_from), _day_start(date_to + timedelta(days=1))
    postings = _shop_postings(vendor).filter(account__currency=currency)

    ends = postings.values("account__purpose").annotate(
        opening=Sum("amount", filter=Q(entry__effective_at__lt=start)),
        closing=Sum("amount", filter=Q(entry__effective_at__lt=end)),
    )
    opening_by, closing_by = {}, {}
    for row in ends.order_by():
        opening_by[row["account__purpose"]] = row["opening"] or ZERO
        closing_by[row["account__purpose"]] = row["closing"] or ZERO

    def balances(by_purpose: dict[str, Decimal]) -> ShopBalances:
        return ShopBalances(
            currency=currency,
            pending=quantize(-by_purpose.get(ledger.PENDING, ZERO), currency),
            available=quantize(-by_purpose.get(ledger.AVAILABLE, ZERO), currency),
            in_payout=quantize(-by_purpose.get(ledger.PAYOUT, ZERO), currency),
        )

    opening = balances(opening_by)
    movements = (
        postings.filter(entry__effective_at__gte=start, entry__effective_at__lt=end)
        .values("entry_id", "entry__kind", "entry__effective_at", "entry__reference", "account__purpose")
        .annotate(total=Sum("amount"))
        .order_by("entry__effective_at", "entry_id")
    )
    entries: dict[int, dict] = {}
    for row in movements:
        entry = entries.setdefault(
            row["entry_id"],
            {
                "at": row["entry__effective_at"],
                "kind": row["entry__kind"],
                "reference": row["entry__reference"] or {},
                ledger.PENDING: ZERO,
                ledger.AVAILABLE: ZERO,
                ledger.PAYOUT: ZERO,
            },
        )
        entry[row["account__purpose"]] -= row["total"]

    # Order numbers and notes: settlements by their entry (one entry settles the shop's shop orders
    # of a batch, listed one row each), orders and payouts by the reference.
    settlements: dict[int, list[Settlement]] = defaultdict(list)
    for settlement in (
        Settlement.objects.filter(entry_id__in=list(entries)).select_related("vendor_order").order_by("vendor_order_id")
    ):
        settlements[settlement.entry_id].append(settlement)
    order_ids = {e["reference"].get("vendor_order") for e in entries.values()} - {None}
    numbers = dict(VendorOrder.objects.filter(pk__in=order_ids, vendor=vendor).values_list("pk", "number"))
    payout_refs = {e["reference"].get("payout") for e in entries.values()} - {None}
    failures = dict(
        Payout.objects.filter(reference__in=payout_refs, vendor=vendor).values_list("reference", "failure_reason")
    )

    # Each entry as (entry id, entry, order number, pending, available, in payout, note); a
    # settlement entry once per shop order it settled.
    lines = []
    for entry_id, entry in entries.items():
        reference = entry["reference"]
        for settlement in settlements.get(entry_id, []):
            note = ""
            if settlement.netted:
                note = gettext("%(amount)s of it paid off what you owed") % {
                    "amount": format_money(settlement.netted, currency)
                }
            number = settlement.vendor_order.number
            lines.append((entry_id, entry, number, -settlement.vendor_amount, settlement.vendor_amount, ZERO, note))
        if entry_id not in settlements:
            note = failures.get(reference.get("payout"), "") if entry["kind"] == "payout_failed" else ""
            number = numbers.get(reference.get("vendor_order"), "")
            pending, available, in_payout = entry[ledger.PENDING], entry[ledger.AVAILABLE], entry[ledger.PAYOUT]
            lines.append((entry_id, entry, number, pending, available, in_payout, note))

    rows = []
    running = opening.available
    for entry_id, entry, order_number, pending, available, in_payout, note in lines:
        running += available
        reference = entry["reference"]
        rows.append(
            StatementRow(
                entry_id=entry_id,
                at=entry["at"],
                kind=entry["kind"],
                order_number=order_number,
                reference=reference.get("payout") or reference.get("refund") or reference.get("payment") or "",
                pending=quantize(pending, currency),
                available=quantize(available, currency),
                in_payout=quantize(in_payout, currency),
                available_after=quantize(running, currency),
                note=note,
            )
        )
    return Statement(
        vendor=vendor,
        currency=currency,
        date_from=date_from,
        date_to=date_to,
        opening=opening,
        rows=rows,
        closing=balances(closing_by),
    )


STATEMENT_CSV_HEADER = [
    "date",
    "kind",
    "description",
    "order",
    "reference",
    "pending",
    "available",
    "in_payout",
    "available_balance",
    "note",
]


def statement_csv(*, statement: Statement) -> bytes:
    """The statement's movements as CSV, one row per movement: UTF-8 with a byte order mark
    (Excel then reads Chinese correctly), amounts as plain decimals, times in the site's zone."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(STATEMENT_CSV_HEADER)
    for row in statement.rows:
        writer.writerow(
            [
                localtime(row.at).strftime("%Y-%m-%d %H:%M:%S"),
                row.kind,
                row.label,
                row.order_number,
                row.reference,
                str(row.pending),
                str(row.available),
                str(row.in_payout),
                str(row.available_after),
                row.note,
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- The platform's money overview (admin) ----------------------------------------------------


@dataclass
class CurrencyMoney:
    """The ledger's picture of one currency, each amount as "owed to" or "held by" its party
    (positive), whatever the account's sign convention."""

    currency: str
    commission_pending: Decimal = ZERO  # platform commission still inside return windows
    commission: Decimal = ZERO  # settled commission income
    promotions: Decimal = ZERO  # discounts the platform funded
    vendors: dict[str, Decimal] = field(default_factory=dict)  # purpose -> owed to shops (net)
    referrers: dict[str, Decimal] = field(default_factory=dict)  # purpose -> owed to referrers (net)
    vendors_debt: Decimal = ZERO  # what shops owe back after claw-backs (negative available balances)
    referrers_debt: Decimal = ZERO
    clearing: dict[str, Decimal] = field(default_factory=dict)  # provider -> money it holds for us
    fees: dict[str, Decimal] = field(default_factory=dict)  # provider -> its fees on captures
    buyer_refunds: Decimal = ZERO  # refunds approved, not yet confirmed by the provider
    tax: Decimal = ZERO  # cross-border tax held for customs


@dataclass(frozen=True)
class MoneyOverview:
    currencies: list[CurrencyMoney]
    runs: list[ReconciliationRun]  # the latest reconciliation run per provider


def money_overview() -> MoneyOverview:
    """Every number of the admin's money overview from the ledger, in three aggregate queries
    whatever the number of shops, referrers and buyers."""
    by_currency: dict[str, CurrencyMoney] = {}

    def of(currency: str) -> CurrencyMoney:
        if currency not in by_currency:
            zero = quantize(ZERO, currency)
            purposes = {ledger.PENDING: zero, ledger.AVAILABLE: zero, ledger.PAYOUT: zero}
            by_currency[currency] = CurrencyMoney(currency=currency, vendors=dict(purposes), referrers=dict(purposes))
        return by_currency[currency]

    # Provider accounts are kept apart per provider; every other owner type is summed over owners.
    rows = (
        Posting.objects.annotate(
            provider=Case(
                When(account__owner_type=LedgerAccount.OwnerType.PROVIDER, then=F("account__owner_key")),
                default=Value(""),
            )
        )
        .values_list("account__owner_type", "account__purpose", "currency", "provider")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for owner_type, purpose, currency, provider, total in rows:
        money, owed = of(currency), quantize(-total, currency)  # credit-normal: owed to the owner
        if owner_type == ledger.PLATFORM and purpose == ledger.COMMISSION_PENDING:
            money.commission_pending += owed
        elif owner_type == ledger.PLATFORM and purpose == ledger.COMMISSION:
            money.commission += owed
        elif owner_type == ledger.PLATFORM and purpose == ledger.PROMOTIONS:
            money.promotions -= owed  # debit-normal: what the platform paid in
        elif owner_type == ledger.VENDOR:
            money.vendors[purpose] = money.vendors.get(purpose, ZERO) + owed
        elif owner_type == ledger.REFERRER:
            money.referrers[purpose] = money.referrers.get(purpose, ZERO) + owed
        elif owner_type == ledger.PROVIDER and purpose == ledger.CLEARING:
            money.clearing[provider] = money.clearing.get(provider, ZERO) - owed  # debit-normal
        elif owner_type == ledger.PROVIDER and purpose == ledger.FEES:
            money.fees[provider] = money.fees.get(provider, ZERO) + owed
        elif owner_type == ledger.BUYER:
            money.buyer_refunds += owed
        elif owner_type == ledger.TAX:
            money.tax += owed

    # Negative available balances (a claw-back after settlement) are debts, netted above; shown apart.
    in_debt = (
        LedgerAccount.objects.filter(owner_type__in=[ledger.VENDOR, ledger.REFERRER], purpose=ledger.AVAILABLE)
        .annotate(balance=Sum("postings__amount"))
        .filter(balance__gt=0)
        .values("pk")
    )
    debts = (
        Posting.objects.filter(account_id__in=in_debt)
        .values_list("account__owner_type", "currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for owner_type, currency, total in debts:
        if owner_type == ledger.VENDOR:
            of(currency).vendors_debt += total
        else:
            of(currency).referrers_debt += total

    latest_day = ReconciliationRun.objects.filter(provider=OuterRef("provider")).order_by("-day").values("day")[:1]
    runs = list(ReconciliationRun.objects.filter(day=Subquery(latest_day)).order_by("provider"))
    return MoneyOverview(currencies=[by_currency[code] for code in sorted(by_currency)], runs=runs)
