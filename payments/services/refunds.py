"""Refunds (PAYMENTS.md sections 3.4 and 3.5, invariants 7, 8 and 21).

A refund of lines reverses their splits proportionally, cumulatively: after a refund, each
part (paid, platform discount, commission, referral, fee, tax) reversed so far for a line is
round_half_up(part × refunded_so_far / paid) — so every partial refund uses the same rounding
rule and a line refunded in full leaves exactly zero for every party (invariant 8).

- Before the shop order settles, the reversal comes out of the pending accounts.
- After it settled, it is clawed back from the shop's and referrer's available balances (they may
  go negative and are netted at the next settlement) and the commission is returned; when the
  provider already split the money, each receiver's share is first returned to the payment
  (split return, never more than that receiver got), and only then is the buyer refunded.
The buyer's money goes back through the provider that took it: buyer:<b>:refund is credited
when the refund is approved and debited when the provider confirms it.
"""

import secrets
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext

from marketplace import hooks
from marketplace.errors import DomainError
from marketplace.models import User
from marketplace.money import quantize, round_half_up
from marketplace.services import audit_record
from orders.models import OrderLine, ReturnRequest, VendorOrder
from payments import ledger
from payments.models import LineSplit, Payment, Posting, ProviderCall, Refund, RefundLine, Settlement
from payments.providers.base import Receiver
from payments.services.calls import call_enqueue, receiver_account_for

ZERO = Decimal(0)
PARTS = ("paid", "platform_discount", "commission", "referral", "fee", "tax", "vendor_amount")


class RefundRefused(DomainError):
    code = "refund_refused"
    http_status = 409
    default_message = "{reason}"


def _reversed_so_far(split: LineSplit) -> dict[str, Decimal]:
    totals = RefundLine.objects.filter(split=split).aggregate(**{part: Sum(part) for part in PARTS})
    return {part: totals[part] or ZERO for part in PARTS}


def _reversal(*, split: LineSplit, refund_paid: Decimal) -> dict[str, Decimal]:
    """The parts to reverse when `refund_paid` more of the split's paid amount goes back."""
    before = _reversed_so_far(split)
    remaining = split.paid - before["paid"]
    if refund_paid > remaining:
        raise RefundRefused(
            reason=gettext("At most %(amount)s can still be refunded for this line.") % {"amount": remaining}
        )
    cumulative = before["paid"] + refund_paid
    if split.paid == 0:
        fraction_num, fraction_den = Decimal(1), Decimal(1)
    else:
        fraction_num, fraction_den = cumulative, split.paid
    parts = {"paid": refund_paid}
    for part in ("platform_discount", "commission", "referral", "fee", "tax"):
        target = round_half_up(getattr(split, part) * fraction_num / fraction_den, split.currency)
        parts[part] = target - before[part]
    parts["vendor_amount"] = (
        parts["paid"]
        + parts["platform_discount"]
        - parts["commission"]
        - parts["referral"]
        - parts["fee"]
        - parts["tax"]
    )
    return parts


def line_refund_amount(*, order_line: OrderLine, quantity: int, already_quantity: int) -> Decimal:
    """The buyer's paid share of `quantity` more units, cumulative half-up (the last unit takes the rest)."""
    paid = order_line.paid_amount
    before = quantize(paid * already_quantity / order_line.quantity, order_line.vendor_order.currency)
    after = quantize(paid * (already_quantity + quantity) / order_line.quantity, order_line.vendor_order.currency)
    return after - before


def refund_create(
    *,
    vendor_order: VendorOrder,
    actor: User | None,
    reason: str,
    lines: list[tuple[OrderLine, Decimal]],
    shipping: Decimal = ZERO,
    return_request: ReturnRequest | None = None,
    quantities: dict[int, int] | None = None,
) -> Refund:
    """Refunds `amount` of each given order line (and `shipping`) of one shop order.

    One transaction: the Refund, its lines, the ledger entry and the provider calls (split
    returns first, then the refund waiting for them). Locks the shop order row so concurrent
    refunds of the same lines cannot both pass the "never more than paid" check."""
    with transaction.atomic():
        vendor_order = VendorOrder.objects.select_for_update().get(pk=vendor_order.pk)
        splits = {s.order_line_id: s for s in LineSplit.objects.filter(vendor_order=vendor_order)}
        if not splits:
            raise RefundRefused(reason=gettext("This shop order has no captured payment to refund."))
        payment = next(iter(splits.values())).payment
        shipping_split = splits.get(None)
        wanted: list[tuple[LineSplit, Decimal, int]] = []
        for order_line, amount in lines:
            split = splits.get(order_line.pk)
            if split is None or amount < 0:
                raise RefundRefused(reason=gettext("This line cannot be refunded."))
            if amount > 0:
                wanted.append((split, quantize(amount, payment.currency), (quantities or {}).get(order_line.pk, 0)))
        if shipping > 0:
            if shipping_split is None:
                raise RefundRefused(reason=gettext("This shop order has no shipping to refund."))
            wanted.append((shipping_split, quantize(shipping, payment.currency), 0))
        if not wanted:
            raise RefundRefused(reason=gettext("Nothing to refund."))

        settlement = Settlement.objects.filter(vendor_order=vendor_order).select_related("instruction").first()
        refund_lines = [
            RefundLine(split=split, quantity=quantity, **_reversal(split=split, refund_paid=amount))
            for split, amount, quantity in wanted
        ]
        reference = f"RF-{secrets.token_hex(8).upper()}"
        entry = _refund_entry(
            reference=reference,
            payment=payment,
            vendor_order=vendor_order,
            refund_lines=refund_lines,
            settled=settlement is not None,
        )
        refund = Refund.objects.create(
            payment=payment,
            vendor_order=vendor_order,
            return_request=return_request,
            amount=sum((line.paid for line in refund_lines), ZERO),
            currency=payment.currency,
            reference=reference,
            reason=reason[:200],
            after_settlement=settlement is not None,
            created_by=actor,
            entry=entry,
        )
        for line in refund_lines:
            line.refund = refund
        RefundLine.objects.bulk_create(refund_lines)
        _refund_calls(refund=refund, refund_lines=refund_lines, settlement=settlement)
        audit_record(
            actor=actor,
            action="refund.created",
            obj=refund,
            data={
                "amount": str(refund.amount),
                "vendor_order": vendor_order.number,
                "after_settlement": refund.after_settlement,
            },
        )
    return refund


def _refund_entry(*, reference, payment: Payment, vendor_order: VendorOrder, refund_lines, settled: bool):
    currency, provider = payment.currency, payment.provider
    total = {part: sum((getattr(line, part) for line in refund_lines), ZERO) for part in PARTS}
    vendor_purpose = ledger.AVAILABLE if settled else ledger.PENDING
    commission_purpose = ledger.COMMISSION if settled else ledger.COMMISSION_PENDING
    postings = [
        (ledger.vendor_account(vendor_order.vendor_id, vendor_purpose, currency), total["vendor_amount"]),
        (ledger.platform_account(commission_purpose, currency), total["commission"]),
        (ledger.provider_fees(provider, currency), total["fee"]),
        (ledger.tax_customs(currency), total["tax"]) if total["tax"] else None,
        (ledger.platform_account(ledger.PROMOTIONS, currency), -total["platform_discount"]),
        (ledger.buyer_refund(vendor_order.order.buyer_id, currency), -total["paid"]),
    ]
    for line in refund_lines:
        if line.referral:
            postings.append((ledger.referrer_account(line.split.referrer_id, vendor_purpose, currency), line.referral))
    return ledger.ledger_post(
        idempotency_key=f"refund:{reference}",
        kind="refund_after_settlement" if settled else "refund",
        postings=ledger.postings_without_zeros([p for p in postings if p is not None]),
        memo=f"Refund {reference} of shop order {vendor_order.number}",
        reference={"refund": reference, "vendor_order": vendor_order.pk, "payment": payment.reference},
    )


def _refund_calls(*, refund: Refund, refund_lines: list[RefundLine], settlement: Settlement | None) -> None:
    """Split returns for every receiver the split pays (shop, referrers, the platform), then the
    refund, each after the one before (and all after the split while it is still to be sent)."""
    payment = refund.payment
    last = None
    instruction = settlement.instruction if settlement else None
    if instruction is not None and instruction.status not in (
        ProviderCall.Status.FAILED,
        ProviderCall.Status.NOT_SUPPORTED,
    ):
        # A split still in the outbox goes first: the returns and the refund wait for it, or
        # the refund would take money the split is about to route (and the split be refused).
        if instruction.status != ProviderCall.Status.SUCCEEDED:
            last = instruction
        shares: list[tuple[str, str, Decimal]] = [
            ("vendor", str(refund.vendor_order.vendor_id), sum((line.vendor_amount for line in refund_lines), ZERO))
        ]
        referrals: dict[int, Decimal] = {}
        for line in refund_lines:
            if line.referral:
                referrals[line.split.referrer_id] = referrals.get(line.split.referrer_id, ZERO) + line.referral
        shares += [("referrer", str(user_id), amount) for user_id, amount in sorted(referrals.items())]
        # The platform's commission was split out to its own receiver too: it comes back as well.
        shares.append(("platform", "", sum((line.commission for line in refund_lines), ZERO)))
        left = _left_in_split(settlement=settlement, instruction=instruction)
        for index, (owner_type, owner_key, amount) in enumerate(shares):
            # Never ask a receiver for more than it still has from this split (invariant 21): a
            # shop whose debt was netted got less; the rest of its claw-back stays a debt in the
            # ledger, and the money for the buyer is the part the provider kept unsplit.
            amount = min(amount, left.get((owner_type, owner_key), ZERO))
            if amount <= 0:
                continue
            last = call_enqueue(
                provider=payment.provider,
                kind=ProviderCall.Kind.SPLIT_RETURN,
                external_id=f"{refund.reference}-R{index}",
                payment=payment,
                payload={
                    "split_external_id": instruction.external_id,
                    "owner_type": owner_type,
                    "owner_key": owner_key,
                    "amount": str(amount),
                    "currency": payment.currency,
                },
                after=last,
            )
    call = call_enqueue(
        provider=payment.provider,
        kind=ProviderCall.Kind.REFUND,
        external_id=refund.reference,
        payment=payment,
        payload={"amount": str(refund.amount), "currency": refund.currency, "reason": refund.reason},
        after=last,
    )
    Refund.objects.filter(pk=refund.pk).update(call=call, status=Refund.Status.PENDING if last else Refund.Status.SENT)


def _left_in_split(*, settlement: Settlement, instruction: ProviderCall) -> dict[tuple[str, str], Decimal]:
    """What each receiver got from the settlement's split, less what earlier split returns took back."""
    from payments.services.settlement import split_parts

    left = {(owner_type, owner_key): amount for owner_type, owner_key, amount in split_parts(settlement=settlement)}
    earlier = ProviderCall.objects.filter(
        kind=ProviderCall.Kind.SPLIT_RETURN, payload__split_external_id=instruction.external_id
    ).exclude(status=ProviderCall.Status.FAILED)
    for payload in earlier.values_list("payload", flat=True):
        key = (payload["owner_type"], payload["owner_key"])
        left[key] = left.get(key, ZERO) - Decimal(payload["amount"])
    return left


def return_receiver(*, call: ProviderCall) -> Receiver:
    account = receiver_account_for(
        owner_type=call.payload["owner_type"], owner_key=call.payload["owner_key"], provider=call.provider
    )
    return Receiver(
        account=account.account if account else "",
        kind=call.payload["owner_type"],
        amount=Decimal(call.payload["amount"]),
        description=f"return for {call.external_id}",
    )


def call_amount(*, call: ProviderCall) -> Decimal:
    return Decimal(call.payload["amount"])


def refund_outcome(*, call: ProviderCall, succeeded: bool, detail: str) -> None:
    """Inside call_outcome's transaction: the provider refunded the buyer (or refused for good)."""
    refund = Refund.objects.filter(call=call).select_related("return_request", "payment__order").first()
    if refund is None:
        return
    if not succeeded:
        Refund.objects.filter(pk=refund.pk).exclude(status=Refund.Status.SUCCEEDED).update(status=Refund.Status.FAILED)
        audit_record(actor=None, action="refund.failed", obj=refund, data={"detail": detail[:200]})
        return
    changed = (
        Refund.objects.filter(pk=refund.pk)
        .exclude(status=Refund.Status.SUCCEEDED)
        .update(status=Refund.Status.SUCCEEDED, completed_at=timezone.now())
    )
    if not changed:
        return
    currency = refund.currency
    ledger.ledger_post(
        idempotency_key=f"refund:{refund.reference}:confirmed",
        kind="refund_confirmed",
        postings=[
            (ledger.buyer_refund(refund.payment.order.buyer_id, currency), refund.amount),
            (ledger.provider_clearing(refund.payment.provider, currency), -refund.amount),
        ],
        memo=f"Provider confirmed refund {refund.reference}",
        reference={"refund": refund.reference},
    )
    audit_record(actor=None, action="refund.succeeded", obj=refund, data={"amount": str(refund.amount)})
    if refund.return_request_id:
        from orders.services.returns import return_mark_refunded

        return_mark_refunded(return_request=refund.return_request)


RECEIPT_KINDS = ["capture", "capture_unaccepted", "receipt"]


def _booked_received(payment: Payment) -> Decimal:
    """What the ledger has recorded arriving at the provider for this payment."""
    total = Posting.objects.filter(
        account__owner_type=ledger.PROVIDER,
        account__purpose=ledger.CLEARING,
        entry__kind__in=RECEIPT_KINDS,
        entry__reference__payment=payment.reference,
    ).aggregate(total=Sum("amount"))["total"]
    return total or ZERO


def payment_refund_excess(*, payment: Payment, amount: Decimal, actor: User | None, reason: str) -> Refund | None:
    """Refunds money a payment holds that no order line takes: a capture the order could not
    accept (needs_refund), a bank over-payment, or a part-payment that expired.

    Money received but not yet in the ledger is booked first (entry `receipt:<payment>:<total
    received>`: clearing -> owed to the buyer), so the ledger shows it arriving before it leaves.
    Idempotent: never refunds more than what the payment received beyond what its order took;
    returns None when nothing is owed any more."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        currency = payment.currency
        captured = payment.status == Payment.Status.CAPTURED
        accepted = payment.amount if captured and not payment.needs_refund else ZERO
        received = max(payment.amount_received, payment.amount if captured else ZERO)
        unbooked = received - _booked_received(payment)
        entry = None
        if unbooked > 0:
            entry = ledger.ledger_post(
                idempotency_key=f"receipt:{payment.reference}:{received}",
                kind="receipt",
                postings=[
                    (ledger.provider_clearing(payment.provider, currency), unbooked),
                    (ledger.buyer_refund(payment.order.buyer_id, currency), -unbooked),
                ],
                memo=f"{unbooked} {currency} received on {payment.reference} that its order does not take",
                reference={"payment": payment.reference},
            )
        already = (
            Refund.objects.filter(payment=payment, vendor_order__isnull=True).aggregate(total=Sum("amount"))["total"]
            or ZERO
        )
        amount = min(quantize(amount, currency), received - accepted - already)
        if amount <= 0:
            return None
        reference = f"RX-{payment.reference[4:]}-{int(already.scaleb(2))}"
        refund = Refund.objects.create(
            payment=payment,
            amount=amount,
            currency=currency,
            reference=reference,
            reason=reason[:200],
            created_by=actor,
            entry=entry,
        )
        call = call_enqueue(
            provider=payment.provider,
            kind=ProviderCall.Kind.REFUND,
            external_id=reference,
            payment=payment,
            payload={"amount": str(amount), "currency": currency, "reason": reason[:200]},
        )
        Refund.objects.filter(pk=refund.pk).update(call=call, status=Refund.Status.SENT)
        audit_record(actor=actor, action="refund.excess_created", obj=refund, data={"amount": str(amount)})
    refund.refresh_from_db()
    return refund


def _on_return_refund_approved(*, return_request: ReturnRequest, actor: User | None) -> None:
    """orders -> payments hook: an accepted return's money goes back to the buyer."""
    if Refund.objects.filter(return_request=return_request).exists():
        return  # the hook fired again (a replayed action): one refund per request
    lines = [(line.order_line, line.amount) for line in return_request.lines.select_related("order_line")]
    quantities = {line.order_line_id: line.quantity for line in return_request.lines.all()}
    refund_create(
        vendor_order=return_request.vendor_order,
        actor=actor,
        reason=f"Return {return_request.number}: {return_request.reason}",
        lines=lines,
        shipping=return_request.shipping_refund,
        return_request=return_request,
        quantities=quantities,
    )


def register_hooks() -> None:
    hooks.register(hooks.RETURN_REFUND_APPROVED, _on_return_refund_approved)
