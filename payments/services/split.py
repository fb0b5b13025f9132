"""The split of a capture (PAYMENTS.md sections 3.1 and 4).

For each line of each shop order of the paid Order:
- base = line_total − shop_discount (what the shop sells the line for, after its own coupons);
- paid = base − platform_discount (what the buyer paid for it);
- commission = round_half_up(base × rate) and referral = round_half_up(base × referral_rate):
  both on `base`, so that a platform-funded coupon changes neither the shop's share nor the
  rates' base (docs/payments.md explains this choice against PAYMENTS.md's "paid × rate");
- the provider's fee on the whole payment is allocated over every line and every shop order's
  shipping by the largest-remainder rule, in shop-order then line order, weighted by `paid`;
- tax is 0 until the cross-border work adds it;
- the shop's share is what remains: vendor = paid + platform_discount − commission − referral − fee − tax.
Shipping is the shop's (less its share of the fee). One journal entry per shop order, posted
in the same transaction as the capture.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from marketplace.money import allocate_largest_remainder, quantize, round_half_up
from orders.models import Order, OrderLine, VendorOrder
from payments import ledger
from payments.models import JournalEntry, LineSplit, Payment
from payments.providers import get_provider_class
from payments.services.commission import commission_rates_for

ZERO = Decimal(0)


@dataclass
class _Part:
    vendor_order: VendorOrder
    line: OrderLine | None  # None: the shop order's shipping
    paid: Decimal
    platform_discount: Decimal
    base: Decimal
    commission_rate: Decimal = ZERO
    referral_rate: Decimal = ZERO
    referrer_id: int | None = None


def fee_for(*, payment: Payment) -> Decimal:
    """The provider's fee on the whole capture (its rate × the amount, half-up)."""
    rate = get_provider_class(payment.provider).capabilities.fee_rate
    return round_half_up(payment.amount * rate, payment.currency)


def splits_build(*, payment: Payment, order: Order) -> list[LineSplit]:
    """The unsaved LineSplits of a capture: pure arithmetic over the order's frozen lines."""
    currency = order.currency
    vendor_orders = list(order.vendor_orders.order_by("pk"))
    lines = list(OrderLine.objects.filter(vendor_order__order=order).order_by("vendor_order_id", "pk"))
    paid_at = order.paid_at or timezone.now()
    rates = commission_rates_for(
        lines=[
            (vo.vendor_id, line.product_id_snapshot)
            for vo in vendor_orders
            for line in lines
            if line.vendor_order_id == vo.pk
        ],
        at=paid_at,
    )
    parts: list[_Part] = []
    for vendor_order in vendor_orders:
        for line in (line for line in lines if line.vendor_order_id == vendor_order.pk):
            base = line.line_total - line.shop_discount
            referrer_id = line.referrer_id if line.referrer_id and line.referrer_id != order.buyer_id else None
            parts.append(
                _Part(
                    vendor_order=vendor_order,
                    line=line,
                    paid=base - line.platform_discount,
                    platform_discount=line.platform_discount,
                    base=base,
                    commission_rate=rates[(vendor_order.vendor_id, line.product_id_snapshot)],
                    referral_rate=min(line.referral_rate, settings.REFERRAL_RATE_MAX) if referrer_id else ZERO,
                    referrer_id=referrer_id,
                )
            )
        if vendor_order.shipping_total > 0:
            shipping = vendor_order.shipping_total
            parts.append(
                _Part(vendor_order=vendor_order, line=None, paid=shipping, platform_discount=ZERO, base=shipping)
            )

    total_paid = sum((part.paid for part in parts), ZERO)
    fee_total = min(fee_for(payment=payment), total_paid)
    fees = allocate_largest_remainder(fee_total, [part.paid for part in parts], currency) if parts else []
    platform_bears_fee = settings.PROVIDER_FEE_BORNE_BY == "platform"

    splits = []
    for part, fee in zip(parts, fees, strict=True):
        commission = round_half_up(part.base * part.commission_rate, currency)
        referral = round_half_up(part.base * part.referral_rate, currency)
        if platform_bears_fee:
            commission -= fee
        vendor_amount = part.paid + part.platform_discount - commission - referral - fee
        splits.append(
            LineSplit(
                payment=payment,
                vendor_order=part.vendor_order,
                order_line=part.line,
                vendor_id=part.vendor_order.vendor_id,
                referrer_id=part.referrer_id if referral > 0 else None,
                currency=currency,
                paid=quantize(part.paid, currency),
                platform_discount=quantize(part.platform_discount, currency),
                commission_rate=part.commission_rate,
                commission=quantize(commission, currency),
                referral_rate=part.referral_rate,
                referral=quantize(referral, currency),
                fee=fee,
                fee_bearer="platform" if platform_bears_fee else "vendor",
                tax=quantize(ZERO, currency),
                vendor_amount=quantize(vendor_amount, currency),
            )
        )
    return splits


def capture_post(*, payment: Payment, order: Order) -> list[JournalEntry]:
    """Writes the LineSplits of an accepted capture and one capture entry per shop order.

    Runs inside payment_capture's transaction; idempotent: a payment already split returns its
    existing entries (the entries' keys are per payment and shop order)."""
    if LineSplit.objects.filter(payment=payment).exists():
        return list(
            JournalEntry.objects.filter(
                idempotency_key__in=[
                    f"capture:{payment.reference}:vo:{pk}"
                    for pk in LineSplit.objects.filter(payment=payment).values_list("vendor_order_id", flat=True)
                ]
            )
        )
    splits = splits_build(payment=payment, order=order)
    LineSplit.objects.bulk_create(splits)
    entries = []
    by_vendor_order: dict[int, list[LineSplit]] = {}
    for split in splits:
        by_vendor_order.setdefault(split.vendor_order_id, []).append(split)
    for vendor_order_id, group in by_vendor_order.items():
        entry = _capture_entry(payment=payment, vendor_order_id=vendor_order_id, splits=group)
        if entry is not None:
            entries.append(entry)
    return entries


def _capture_entry(*, payment: Payment, vendor_order_id: int, splits: list[LineSplit]) -> JournalEntry | None:
    """None when the shop order moves no money at all (everything free, no fee): nothing to post."""
    currency, provider = payment.currency, payment.provider
    vendor_id = splits[0].vendor_id
    postings = [
        (ledger.provider_clearing(provider, currency), sum((s.paid for s in splits), ZERO)),
        (ledger.platform_account(ledger.PROMOTIONS, currency), sum((s.platform_discount for s in splits), ZERO)),
        (ledger.vendor_account(vendor_id, ledger.PENDING, currency), -sum((s.vendor_amount for s in splits), ZERO)),
        (ledger.platform_account(ledger.COMMISSION_PENDING, currency), -sum((s.commission for s in splits), ZERO)),
        (ledger.provider_fees(provider, currency), -sum((s.fee for s in splits), ZERO)),
    ]
    for split in splits:
        if split.referral:
            postings.append((ledger.referrer_account(split.referrer_id, ledger.PENDING, currency), -split.referral))
        if split.tax:
            postings.append((ledger.tax_customs(currency), -split.tax))
    postings = ledger.postings_without_zeros(postings)
    if not postings:
        return None
    return ledger.ledger_post(
        idempotency_key=f"capture:{payment.reference}:vo:{vendor_order_id}",
        kind="capture",
        postings=postings,
        memo=f"Capture of {payment.reference} for shop order {vendor_order_id}",
        reference={"payment": payment.reference, "vendor_order": vendor_order_id},
        effective_at=payment.captured_at,
    )


def unaccepted_capture_post(*, payment: Payment) -> JournalEntry:
    """A capture the order could not take (expired, cancelled, paid twice): the provider holds
    the money, owed back to the buyer in full."""
    currency = payment.currency
    return ledger.ledger_post(
        idempotency_key=f"capture:{payment.reference}:unaccepted",
        kind="capture_unaccepted",
        postings=[
            (ledger.provider_clearing(payment.provider, currency), payment.amount),
            (ledger.buyer_refund(payment.order.buyer_id, currency), -payment.amount),
        ],
        memo=f"Capture of {payment.reference} the order could not take: to refund",
        reference={"payment": payment.reference},
        effective_at=payment.captured_at,
    )
