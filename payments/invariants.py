"""The invariants of /work/shared/PAYMENTS.md section 5, checked over the whole ledger and the
payment state tables. `manage.py ledger_check` prints what `ledger_problems()` finds; the
property tests call it after every step. Each check is a few aggregate queries, never a query
per row, so it runs over a large ledger.
"""

from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, Sum

from marketplace.money import MINOR_UNITS, exponent, quantize
from payments import ledger
from payments.models import (
    JournalEntry,
    LineSplit,
    Payment,
    Payout,
    Posting,
    ProviderCall,
    Refund,
    RefundLine,
    Settlement,
)

ZERO = Decimal(0)


def _money(value, currency: str) -> Decimal:
    """Sums read back exactly on PostgreSQL; on SQLite (the embedded demo) they come back as
    floats, so every comparison is made at the currency's minor unit."""
    return quantize(Decimal(str(value or 0)), currency)


def ledger_problems() -> list[str]:
    problems: list[str] = []
    for check in (
        _entries_balanced_and_keyed,
        _splits_add_up,
        _captures_match_payments,
        _refunds_within_paid,
        _full_refunds_leave_zero,
        _settlements,
        _pending_matches_unsettled_splits,
        _clearing_matches_state,
        _platform_accounts,
        _referrals,
        _state_has_its_entries,
    ):
        problems.extend(check())
    return problems


def _entry_label(entry_ids) -> dict[int, str]:
    return dict(JournalEntry.objects.filter(pk__in=list(entry_ids)).values_list("id", "idempotency_key"))


def _entries_balanced_and_keyed() -> list[str]:
    """Invariants 1, 2, 4 and 18."""
    problems: dict[int, list[str]] = defaultdict(list)
    for row in Posting.objects.values("entry_id", "currency").annotate(total=Sum("amount")).exclude(total=0):
        if _money(row["total"], row["currency"]) != 0:  # SQLite sums decimals as floats
            problems[row["entry_id"]].append(f"postings in {row['currency']} sum to {row['total']}, not 0")
    for row in Posting.objects.exclude(currency=F("account__currency")).values(
        "entry_id", "id", "currency", "account__currency"
    ):
        problems[row["entry_id"]].append(
            f"posting {row['id']} is in {row['currency']} but its account is in {row['account__currency']}"
        )
    for row in JournalEntry.objects.annotate(n=Count("postings")).filter(n__lt=2).values("id", "n"):
        problems[row["id"]].append(f"has {row['n']} posting(s), needs at least 2")
    for entry_id in JournalEntry.objects.filter(Q(idempotency_key="") | Q(idempotency_key__isnull=True)).values_list(
        "id", flat=True
    ):
        problems[entry_id].append("has no idempotency key")
    duplicated = JournalEntry.objects.values("idempotency_key").annotate(n=Count("id")).filter(n__gt=1)
    for entry_id in JournalEntry.objects.filter(idempotency_key__in=duplicated.values("idempotency_key")).values_list(
        "id", flat=True
    ):
        problems[entry_id].append("shares its idempotency key with another entry")
    coarse = [currency for currency in MINOR_UNITS if exponent(currency) < 2]
    for posting in Posting.objects.filter(currency__in=coarse).only("id", "entry_id", "amount", "currency"):
        if posting.amount != quantize(posting.amount, posting.currency):
            problems[posting.entry_id].append(
                f"posting {posting.id} amount {posting.amount} has more decimals than {posting.currency} allows"
            )
    keys = _entry_label(problems)
    return [
        f"entry {entry_id} ({keys.get(entry_id, '?')}): {problem}"
        for entry_id in sorted(problems)
        for problem in problems[entry_id]
    ]


def _splits_add_up() -> list[str]:
    """Invariant 5 (the database checks it too), and each capture entry credits the shop what its splits say."""
    problems = [
        f"line split {split.pk}: parts do not add up to what was paid"
        for split in LineSplit.objects.exclude(
            vendor_amount=F("paid") + F("platform_discount") - F("commission") - F("referral") - F("fee") - F("tax")
        ).only("id", "paid", "platform_discount", "commission", "referral", "fee", "tax", "vendor_amount")
        if split.vendor_amount
        != split.paid + split.platform_discount - split.commission - split.referral - split.fee - split.tax
    ]
    by_vendor_order = {
        (row["payment__reference"], row["vendor_order_id"]): row["total"]
        for row in LineSplit.objects.values("payment__reference", "vendor_order_id").annotate(
            total=Sum("vendor_amount")
        )
    }
    credited = {
        row["entry__idempotency_key"]: row["total"]
        for row in Posting.objects.filter(
            entry__kind="capture", account__owner_type=ledger.VENDOR, account__purpose=ledger.PENDING
        )
        .values("entry__idempotency_key")
        .annotate(total=Sum("amount"))
    }
    for (reference, vendor_order_id), total in by_vendor_order.items():
        key = f"capture:{reference}:vo:{vendor_order_id}"
        if -(credited.get(key) or ZERO) != total:
            problems.append(f"{key}: shop credited {-(credited.get(key) or ZERO)}, its splits say {total}")
    return problems


def _captures_match_payments() -> list[str]:
    """Invariant 6: each captured payment's capture entries debit the provider exactly what it confirmed."""
    debited: dict[str, Decimal] = defaultdict(Decimal)
    for key, amount in Posting.objects.filter(
        entry__kind__in=["capture", "capture_unaccepted"],
        account__owner_type=ledger.PROVIDER,
        account__purpose=ledger.CLEARING,
    ).values_list("entry__idempotency_key", "amount"):
        debited[key.split(":")[1]] += amount
    problems = []
    for reference, amount in Payment.objects.filter(status=Payment.Status.CAPTURED).values_list("reference", "amount"):
        if debited.get(reference, ZERO) != amount:
            problems.append(
                f"payment {reference}: captured {amount}, capture entries debit {debited.get(reference, ZERO)}"
            )
        debited.pop(reference, None)
    problems += [f"capture entries for {reference}, which is not a captured payment" for reference in debited]
    return problems


def _refunds_within_paid() -> list[str]:
    """Invariant 7: refunds of a line never exceed what was paid for it, of an order never exceed
    its payments, and the provider is told the refund's own amount."""
    problems = [
        f"line split {row['split_id']}: refunded {row['total']} of {row['split__paid']} paid"
        for row in RefundLine.objects.values("split_id", "split__paid")
        .annotate(total=Sum("paid"))
        .filter(total__gt=F("split__paid"))
    ]
    for row in Refund.objects.values(
        "payment_id", "payment__reference", "payment__amount", "payment__amount_received"
    ).annotate(total=Sum("amount")):
        received = max(row["payment__amount"], row["payment__amount_received"])
        if row["total"] > received:
            problems.append(f"payment {row['payment__reference']}: refunds {row['total']} exceed {received} received")
    for reference, amount, payload in Refund.objects.filter(call__isnull=False).values_list(
        "reference", "amount", "call__payload"
    ):
        if Decimal(payload.get("amount", "-1")) != amount:
            problems.append(f"refund {reference}: {amount} approved but {payload.get('amount')} sent to the provider")
    return problems


def _full_refunds_leave_zero() -> list[str]:
    """Invariant 8: a line refunded in full returns every part of its split exactly."""
    parts = ("platform_discount", "commission", "referral", "fee", "tax", "vendor_amount")
    problems = []
    rows = (
        RefundLine.objects.values("split_id")
        .annotate(paid=Sum("paid"), **{f"r_{part}": Sum(part) for part in parts})
        .filter(paid=F("split__paid"))
    )
    splits = {split.pk: split for split in LineSplit.objects.filter(pk__in=[row["split_id"] for row in rows])}
    for row in rows:
        split = splits[row["split_id"]]
        for part in parts:
            if row[f"r_{part}"] != getattr(split, part):
                problems.append(
                    f"line split {split.pk} fully refunded but {part} reversed {row[f'r_{part}']} of {getattr(split, part)}"
                )
    return problems


def _settlements() -> list[str]:
    """Invariants 9 and 19. Settled shop orders are completed. Each settlement with money to move
    has exactly one split instruction, the split call of its own payment, and every split call
    belongs to a settlement. A settlement entry covers the shop's settlements of one batch (one
    entry per shop, currency and batch): its postings are exactly their sums, so the instructions
    of an entry route exactly what it made available. The settlement's copies of its shop
    order's shop and payment, which carry no foreign key, match the shop order."""
    problems = [
        f"settlement of shop order {vendor_order_id} but its status is {status}"
        for vendor_order_id, status in Settlement.objects.exclude(vendor_order__status="completed").values_list(
            "vendor_order_id", "vendor_order__status"
        )
    ]
    problems += [
        f"settlement of shop order {vendor_order_id} has an entry but no split instruction"
        for vendor_order_id in Settlement.objects.filter(entry__isnull=False, instruction__isnull=True).values_list(
            "vendor_order_id", flat=True
        )
    ]
    instructed = list(
        Settlement.objects.filter(instruction_id__isnull=False).values_list(
            "vendor_order_id", "payment_id", "instruction_id"
        )
    )
    calls = {
        pk: (kind, payment_id, external_id)
        for pk, kind, payment_id, external_id in ProviderCall.objects.filter(
            pk__in=Settlement.objects.values("instruction_id")
        ).values_list("pk", "kind", "payment_id", "external_id")
    }
    for vendor_order_id, payment_id, call_id in instructed:
        kind, call_payment_id, external_id = calls.get(call_id, (None, None, None))
        if (kind, call_payment_id, external_id) != (ProviderCall.Kind.SPLIT, payment_id, f"split-{vendor_order_id}"):
            problems.append(
                f"settlement of shop order {vendor_order_id}: its instruction is not its payment's split call "
                f"({kind or 'missing'} {external_id or call_id})"
            )
    problems += [
        f"settlement of shop order {vendor_order_id} names shop {vendor_id}, the shop order is shop {actual}"
        for vendor_order_id, vendor_id, actual in Settlement.objects.exclude(
            vendor_id=F("vendor_order__vendor_id")
        ).values_list("vendor_order_id", "vendor_id", "vendor_order__vendor_id")
    ]
    problems += [
        f"settlement of shop order {vendor_order_id} names payment {payment_id}, which did not pay for it"
        for vendor_order_id, payment_id in Settlement.objects.annotate(
            paid_by=Exists(
                LineSplit.objects.filter(vendor_order_id=OuterRef("vendor_order_id"), payment_id=OuterRef("payment_id"))
            )
        )
        .filter(paid_by=False)
        .values_list("vendor_order_id", "payment_id")
    ]
    problems += [
        f"settlement entry {key} has no settlement"
        for key in JournalEntry.objects.filter(kind="settlement", settlements__isnull=True).values_list(
            "idempotency_key", flat=True
        )
    ]
    problems += [
        f"split instruction {external_id} has no settlement"
        for external_id in ProviderCall.objects.filter(
            kind=ProviderCall.Kind.SPLIT, settlement__isnull=True
        ).values_list("external_id", flat=True)
    ]
    subsidies = {
        external_id: (payment_id, payload)
        for external_id, payment_id, payload in ProviderCall.objects.filter(kind=ProviderCall.Kind.SUBSIDY).values_list(
            "external_id", "payment_id", "payload"
        )
    }
    for vendor_order_id, payment_id, currency, subsidy in Settlement.objects.filter(subsidy__gt=0).values_list(
        "vendor_order_id", "payment_id", "currency", "subsidy"
    ):
        call = subsidies.pop(f"subsidy-{vendor_order_id}", None)
        if call is None or call[0] != payment_id or _money(Decimal(call[1]["amount"]), currency) != subsidy:
            problems.append(
                f"settlement of shop order {vendor_order_id}: no subsidy call of {subsidy} into its payment"
            )
    problems += [f"subsidy call {external_id} has no settlement" for external_id in subsidies]
    problems += _settlement_entries_match()
    return problems


def _settlement_entries_match() -> list[str]:
    """Each settlement entry moves exactly the sums of its settlements, for one shop: its shares
    pending → available, the commission pending → earned, the referrals pending → available."""
    shops: dict[int, set[str]] = defaultdict(set)
    currencies: dict[int, str] = {}
    expected: dict[int, dict[tuple[str, str], Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for entry_id, vendor_id, currency, vendor_amount, commission, referral in (
        Settlement.objects.filter(entry__isnull=False)
        .values_list("entry_id", "vendor_id", "currency")
        .annotate(Sum("vendor_amount"), Sum("commission"), Sum("referral"))
    ):
        shops[entry_id].add(str(vendor_id))
        currencies[entry_id] = currency
        for part, amount in (
            ((ledger.VENDOR, ledger.PENDING), vendor_amount),
            ((ledger.VENDOR, ledger.AVAILABLE), -vendor_amount),
            ((ledger.PLATFORM, ledger.COMMISSION_PENDING), commission),
            ((ledger.PLATFORM, ledger.COMMISSION), -commission),
            ((ledger.REFERRER, ledger.PENDING), referral),
            ((ledger.REFERRER, ledger.AVAILABLE), -referral),
        ):
            expected[entry_id][part] += _money(amount, currency)
    actual: dict[int, dict[tuple[str, str], Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for entry_id, owner_type, owner_key, purpose, total in (
        Posting.objects.filter(entry__kind="settlement")
        .values_list("entry_id", "account__owner_type", "account__owner_key", "account__purpose")
        .annotate(total=Sum("amount"))
    ):
        actual[entry_id][(owner_type, purpose)] += Decimal(str(total))
        if owner_type == ledger.VENDOR:
            shops[entry_id].add(owner_key)
    labels = _entry_label(expected)
    problems = []
    for entry_id in sorted(expected):  # an entry with no settlement is reported by _settlements
        if len(shops[entry_id]) > 1:
            problems.append(f"settlement entry {labels.get(entry_id)} mixes shops")
        currency = currencies[entry_id]
        for part, amount in expected[entry_id].items():
            moved = actual[entry_id].get(part, ZERO)
            if _money(moved, currency) != _money(amount, currency):
                problems.append(
                    f"settlement entry {labels.get(entry_id)} moves {moved} on {part[0]} {part[1]}, "
                    f"its settlements {amount}"
                )
    return problems


def _pending_matches_unsettled_splits() -> list[str]:
    """Invariant 10: what each shop has pending is exactly its unsettled splits less their refunds."""
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for vendor_id, currency, total in (
        LineSplit.objects.filter(vendor_order__settlement__isnull=True)
        .values_list("vendor_id", "currency")
        .annotate(total=Sum("vendor_amount"))
    ):
        expected[(str(vendor_id), currency)] += total
    for vendor_id, currency, total in (
        RefundLine.objects.filter(split__vendor_order__settlement__isnull=True)
        .values_list("split__vendor_id", "split__currency")
        .annotate(total=Sum("vendor_amount"))
    ):
        expected[(str(vendor_id), currency)] -= total
    actual = {
        (owner_key, currency): -total
        for owner_key, currency, total in Posting.objects.filter(
            account__owner_type=ledger.VENDOR, account__purpose=ledger.PENDING
        )
        .values_list("account__owner_key", "account__currency")
        .annotate(total=Sum("amount"))
    }
    problems = []
    for key in set(expected) | set(actual):
        if _money(expected.get(key, ZERO), key[1]) != _money(actual.get(key, ZERO), key[1]):
            problems.append(
                f"vendor {key[0]} pending {key[1]}: ledger {actual.get(key, ZERO)}, unsettled splits {expected.get(key, ZERO)}"
            )
    return problems


def _clearing_matches_state() -> list[str]:
    """Invariant 11 (and 15): provider clearing = captured + platform subsidies − refunds confirmed
    − payouts confirmed."""
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    # Money the ledger knows arrived: every captured payment, and any payment whose received
    # money is being sent back (a part-payment that expired); a part-payment still open is not
    # in the ledger yet (BankTransferInstruction.amount_received shows it).
    for provider, currency, status, amount, received in (
        Payment.objects.filter(Q(status=Payment.Status.CAPTURED) | Q(refunds__isnull=False))
        .distinct()
        .values_list("provider", "currency", "status", "amount", "amount_received")
    ):
        expected[(provider, currency)] += max(received, amount if status == Payment.Status.CAPTURED else ZERO)
    for provider, currency, total in (
        Refund.objects.filter(status=Refund.Status.SUCCEEDED)
        .values_list("payment__provider", "currency")
        .annotate(total=Sum("amount"))
    ):
        expected[(provider, currency)] -= total
    for provider, currency, total in (
        Payout.objects.filter(status=Payout.Status.PAID)
        .values_list("provider", "currency")
        .annotate(total=Sum("amount"))
    ):
        expected[(provider, currency)] -= total
    # Platform subsidies the provider took into payments (补差).
    for provider, payload in ProviderCall.objects.filter(
        kind=ProviderCall.Kind.SUBSIDY, status=ProviderCall.Status.SUCCEEDED
    ).values_list("provider", "payload"):
        expected[(provider, payload["currency"])] += Decimal(payload["amount"])
    actual = {
        (owner_key, currency): total
        for owner_key, currency, total in Posting.objects.filter(
            account__owner_type=ledger.PROVIDER, account__purpose=ledger.CLEARING
        )
        .values_list("account__owner_key", "account__currency")
        .annotate(total=Sum("amount"))
    }
    return [
        f"provider {key[0]} clearing {key[1]}: ledger {actual.get(key, ZERO)}, payments/refunds/payouts say {expected.get(key, ZERO)}"
        for key in set(expected) | set(actual)
        if _money(expected.get(key, ZERO), key[1]) != _money(actual.get(key, ZERO), key[1])
    ]


def _platform_accounts() -> list[str]:
    """Invariant 12: the platform's own accounts only hold commission and the promotions it funds
    (the coupons, and the subsidies it pays into payments for them)."""
    allowed = {ledger.COMMISSION_PENDING, ledger.COMMISSION, ledger.PROMOTIONS, ledger.FUNDING}
    return [
        f"entry {key}: posts {amount} to platform account {purpose}, which is not commission or promotions"
        for key, purpose, amount in Posting.objects.filter(account__owner_type=ledger.PLATFORM)
        .exclude(account__purpose__in=allowed)
        .values_list("entry__idempotency_key", "account__purpose", "amount")
    ]


def _referrals() -> list[str]:
    """Invariant 13: at most the line's rate and the platform maximum, never to the buyer."""
    problems = [
        f"line split {split_id}: referral rate {rate} above the line's {line_rate} or the maximum"
        for split_id, rate, line_rate in LineSplit.objects.filter(order_line__isnull=False)
        .filter(Q(referral_rate__gt=F("order_line__referral_rate")) | Q(referral_rate__gt=settings.REFERRAL_RATE_MAX))
        .values_list("id", "referral_rate", "order_line__referral_rate")
    ]
    problems += [
        f"line split {split_id}: the buyer is their own referrer"
        for split_id in LineSplit.objects.filter(referrer_id=F("vendor_order__order__buyer_id")).values_list(
            "id", flat=True
        )
    ]
    return problems


def _state_has_its_entries() -> list[str]:
    """Invariant 15: each payout and refund state change came with its ledger entry."""
    keys = set(
        JournalEntry.objects.filter(
            Q(idempotency_key__startswith="payout:")
            | Q(idempotency_key__startswith="refund:")
            | Q(idempotency_key__startswith="subsidy:")
        ).values_list("idempotency_key", flat=True)
    )
    problems = []
    for reference, status in Payout.objects.values_list("reference", "status"):
        wanted = [f"payout:{reference}:sent"]
        if status == Payout.Status.PAID:
            wanted.append(f"payout:{reference}:paid")
        if status == Payout.Status.FAILED:
            wanted.append(f"payout:{reference}:failed")
        problems += [f"payout {reference} is {status} but entry {key} is missing" for key in wanted if key not in keys]
    for reference in Refund.objects.filter(status=Refund.Status.SUCCEEDED).values_list("reference", flat=True):
        if f"refund:{reference}:confirmed" not in keys:
            problems.append(f"refund {reference} succeeded but its confirmation entry is missing")
    for external_id in ProviderCall.objects.filter(
        kind=ProviderCall.Kind.SUBSIDY, status=ProviderCall.Status.SUCCEEDED
    ).values_list("external_id", flat=True):
        if f"subsidy:{external_id}" not in keys:
            problems.append(f"subsidy {external_id} succeeded but its entry is missing")
    return problems
