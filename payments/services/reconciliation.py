"""Daily reconciliation (PAYMENTS.md invariant 11; payments-providers.md section 4: our ledger is
a shadow of the money the licensed provider holds, checked every day against its statement).

`reconcile_day(provider, day)` compares, for one provider and one local day:

- the provider's records of that day (`adapter.records(day=...)`: captures, refunds, splits,
  split returns, payouts), keyed by (kind, reference), where the reference is our payment
  reference or the outgoing call's external id;
- our records, with amounts taken from what WE asked or were told, never from the provider's
  echo of it (comparing the provider with its own answer would prove nothing):
  * capture: a Payment of that provider captured that day; amount = amount_received (what the
    provider confirmed; the order total when nothing more arrived);
  * refund, split_return: a ProviderCall that succeeded that day (completed_at); amount = the
    amount in the request we sent (its payload);
  * payout: the call's Payout amount;
  * split: the Settlement the instruction belongs to, summed receiver by receiver exactly as
    `settlement.split_receivers` sends them (the shop's share less what it owed, the referrals,
    the commission; a receiver whose part is not positive is not sent). Reading the settlement
    row is one query for the whole day, where re-running split_receivers would be several per
    split and could open receiver accounts as a side effect.

A provider record is looked up among ALL our records (any day, any status), so the message says
what we know of it ("our call is failed"); our records of the day missing from the provider's
statement of the day are `missing_at_provider`. Calls still SENT (accepted, outcome not yet
notified) are not expected on the statement: their day is the day the provider confirms them.

The same run also checks the ledger against our own state tables (invariant 11) as of the end
of the day: provider clearing = captures accepted + money received that only goes back to the
buyer (excess/unclaimed receipts, i.e. refunds of no shop order) − refunds confirmed − payouts
confirmed. A difference is a `clearing_balance` mismatch.

Idempotent per (provider, day): one run (unique in the database), locked while it is rewritten;
its unresolved mismatches are replaced by a fresh comparison, resolved ones are kept and a fresh
mismatch identical to a resolved one is not raised again. The provider is asked before the
transaction opens (network calls never run inside one).
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext

from marketplace.errors import DomainError, NotFound
from marketplace.models import User
from marketplace.money import quantize
from marketplace.services import audit_record
from payments import ledger
from payments.models import (
    LedgerAccount,
    Payment,
    Payout,
    ProviderCall,
    ReconciliationMismatch,
    ReconciliationRun,
    Refund,
    Settlement,
)
from payments.providers import PROVIDER_CLASSES, enabled_provider_codes, get_provider_class
from payments.providers.base import ProviderRecord, ProviderUnavailable

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
CAPTURE = "capture"
CALL_KINDS = [
    ProviderCall.Kind.REFUND,
    ProviderCall.Kind.SPLIT,
    ProviderCall.Kind.SPLIT_RETURN,
    ProviderCall.Kind.PAYOUT,
]


class MismatchKind:
    """The kinds a ReconciliationMismatch can have (the admin filters on them)."""

    MISSING_IN_LEDGER = "missing_in_ledger"  # the provider has it, we do not
    MISSING_AT_PROVIDER = "missing_at_provider"  # we have it, the provider does not
    AMOUNT = "amount_mismatch"
    CURRENCY = "currency_mismatch"
    NO_STATEMENT = "no_statement"  # the adapter cannot list its records
    CLEARING_BALANCE = "clearing_balance"  # the ledger's clearing disagrees with our state tables

    ALL = [MISSING_IN_LEDGER, MISSING_AT_PROVIDER, AMOUNT, CURRENCY, NO_STATEMENT, CLEARING_BALANCE]


class ResolutionRefused(DomainError):
    code = "resolution_refused"
    default_message = "{reason}"


@dataclass
class _Side:
    """One movement as one side knows it."""

    amount: Decimal
    currency: str
    detail: str = ""  # what we know of a record that is not a confirmed movement of ours
    confirmed: bool = True


@dataclass(frozen=True)
class Found:
    kind: str
    reference: str
    currency: str = ""
    ledger_amount: Decimal | None = None
    provider_amount: Decimal | None = None
    detail: str = ""

    def signature(self) -> tuple:
        return (self.kind, self.reference, self.currency, self.ledger_amount, self.provider_amount)


@dataclass
class ReconcileAllResult:
    runs: list[ReconciliationRun] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a day in the site's time zone."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def reconcile_day(*, provider: str, day: date) -> ReconciliationRun:
    """Reconciles one provider's day (see the module docstring). Raises ProviderUnavailable when
    the provider cannot be reached (nothing is written: run it again) and NotFound for an
    unknown provider code."""
    if provider not in PROVIDER_CLASSES:
        raise NotFound(gettext("Unknown payment provider."))
    adapter = get_provider_class(provider)()
    statement_missing = ""
    try:
        records = adapter.records(day=day)
    except NotImplementedError as exc:
        records, statement_missing = [], str(exc) or gettext("The provider has no statement to reconcile.")

    with transaction.atomic():
        run, _created = ReconciliationRun.objects.get_or_create(provider=provider, day=day)
        # Two runs of the same day at once queue here; the second one compares again and
        # replaces the first one's findings with its own identical ones.
        run = ReconciliationRun.objects.select_for_update().get(pk=run.pk)
        found: list[Found] = []
        if statement_missing:
            found.append(
                Found(
                    kind=MismatchKind.NO_STATEMENT,
                    reference=provider,
                    detail=gettext("No statement from the provider, nothing compared: %(reason)s")
                    % {"reason": statement_missing},
                )
            )
        else:
            found += _compare(provider=provider, day=day, records=records)
        found += _clearing_check(provider=provider, day=day)

        run.mismatches.filter(resolved_at__isnull=True).delete()
        resolved = {_signature(mismatch) for mismatch in run.mismatches.all()}
        ReconciliationMismatch.objects.bulk_create(
            ReconciliationMismatch(
                run=run,
                kind=item.kind,
                reference=item.reference[:128],
                currency=item.currency,
                ledger_amount=item.ledger_amount,
                provider_amount=item.provider_amount,
                detail=item.detail[:300],
            )
            for item in found
            if item.signature() not in resolved
        )
        run.records_compared = len(records)
        run.mismatch_count = run.mismatches.filter(resolved_at__isnull=True).count()
        run.finished_at = timezone.now()
        run.save(update_fields=["records_compared", "mismatch_count", "finished_at"])
        audit_record(
            actor=None,
            action="reconciliation.run",
            obj=run,
            data={
                "provider": provider,
                "day": day.isoformat(),
                "records": len(records),
                "mismatches": run.mismatch_count,
            },
        )
    if run.mismatch_count:
        logger.warning("reconciliation of %s on %s: %s open mismatch(es)", provider, day, run.mismatch_count)
    return run


def reconcile_enabled_providers(*, day: date) -> ReconcileAllResult:
    """Reconciles the day for every enabled provider; one that cannot be reached is reported,
    the others are still done."""
    result = ReconcileAllResult()
    for code in enabled_provider_codes():
        try:
            result.runs.append(reconcile_day(provider=code, day=day))
        except ProviderUnavailable as exc:
            logger.warning("reconciliation of %s on %s: provider unavailable: %s", code, day, exc)
            result.unavailable.append(code)
    return result


def reconciliation_mismatches_resolve(*, mismatch_ids: list[int], actor: User, note: str) -> int:
    """An admin explains open mismatches (a note is required); each run's open count follows.
    Returns how many were resolved (already resolved ones are left as they were)."""
    note = note.strip()
    if not note:
        raise ResolutionRefused(reason=gettext("Say how the mismatch was resolved."))
    with transaction.atomic():
        mismatches = list(
            ReconciliationMismatch.objects.select_for_update()
            .filter(pk__in=mismatch_ids, resolved_at__isnull=True)
            .order_by("pk")
        )
        now = timezone.now()
        ReconciliationMismatch.objects.filter(pk__in=[m.pk for m in mismatches]).update(
            resolved_at=now, resolved_by=actor, resolution=note[:300]
        )
        for mismatch in mismatches:
            audit_record(
                actor=actor,
                action="reconciliation.mismatch_resolved",
                obj=mismatch,
                data={"kind": mismatch.kind, "reference": mismatch.reference, "note": note[:200]},
            )
        for run_id in {m.run_id for m in mismatches}:
            ReconciliationRun.objects.filter(pk=run_id).update(
                mismatch_count=ReconciliationMismatch.objects.filter(run_id=run_id, resolved_at__isnull=True).count()
            )
    return len(mismatches)


# --- The comparison ---------------------------------------------------------------------------


def _signature(mismatch: ReconciliationMismatch) -> tuple:
    return (mismatch.kind, mismatch.reference, mismatch.currency, mismatch.ledger_amount, mismatch.provider_amount)


def _provider_side(records: list[ProviderRecord]) -> tuple[dict[tuple[str, str], _Side], list[Found]]:
    """The statement keyed by (kind, reference); several records of one key add up."""
    side: dict[tuple[str, str], _Side] = {}
    odd: list[Found] = []
    for record in records:
        key = (record.kind, record.reference)
        amount = quantize(record.amount, record.currency)
        if key not in side:
            side[key] = _Side(amount=amount, currency=record.currency)
        elif side[key].currency == record.currency:
            side[key].amount += amount
        else:
            odd.append(
                Found(
                    kind=MismatchKind.CURRENCY,
                    reference=record.reference,
                    currency=record.currency,
                    provider_amount=amount,
                    detail=gettext("The provider lists %(kind)s %(reference)s in both %(first)s and %(second)s.")
                    % {
                        "kind": record.kind,
                        "reference": record.reference,
                        "first": side[key].currency,
                        "second": record.currency,
                    },
                )
            )
    return side, odd


def _captures(payments) -> dict[tuple[str, str], _Side]:
    return {
        (CAPTURE, payment.reference): _Side(amount=payment.amount_received or payment.amount, currency=payment.currency)
        for payment in payments
    }


def _calls(calls) -> dict[tuple[str, str], _Side]:
    """Our amount for each call (see the module docstring for the source of each kind)."""
    calls = list(calls)
    split_ids = [call.pk for call in calls if call.kind == ProviderCall.Kind.SPLIT]
    settlements = {
        settlement.instruction_id: settlement for settlement in Settlement.objects.filter(instruction_id__in=split_ids)
    }
    from payments.services.settlement import split_lines

    lines = split_lines([settlement.vendor_order_id for settlement in settlements.values()])
    payouts = {
        payout.call_id: payout
        for payout in Payout.objects.filter(call_id__in=[c.pk for c in calls if c.kind == ProviderCall.Kind.PAYOUT])
    }
    side: dict[tuple[str, str], _Side] = {}
    for call in calls:
        currency = call.payment.currency if call.payment_id else ""
        amount: Decimal | None = None
        if call.kind == ProviderCall.Kind.SPLIT and call.pk in settlements:
            settlement = settlements[call.pk]
            currency = settlement.currency
            amount = split_amount(settlement, lines.get(settlement.vendor_order_id, []))
        elif call.kind == ProviderCall.Kind.PAYOUT and call.pk in payouts:
            payout = payouts[call.pk]
            currency, amount = payout.currency, payout.amount
        elif (
            call.kind in (ProviderCall.Kind.REFUND, ProviderCall.Kind.SPLIT_RETURN, ProviderCall.Kind.SUBSIDY)
            and "amount" in call.payload
        ):
            currency = call.payload.get("currency") or currency
            amount = quantize(Decimal(call.payload["amount"]), currency or "CNY")
        if amount is None:
            side[(call.kind, call.external_id)] = _Side(
                amount=ZERO,
                currency=currency,
                confirmed=False,
                detail=gettext("We cannot tell the amount of our %(kind)s call %(id)s.")
                % {"kind": call.kind, "id": call.external_id},
            )
            continue
        confirmed = call.status in (ProviderCall.Status.SUCCEEDED, ProviderCall.Status.SENT)
        side[(call.kind, call.external_id)] = _Side(
            amount=amount,
            currency=currency,
            confirmed=confirmed,
            detail=""
            if confirmed
            else gettext("Our %(kind)s call %(id)s is %(status)s.")
            % {"kind": call.kind, "id": call.external_id, "status": call.get_status_display()},
        )
    return side


def split_amount(settlement: Settlement, lines) -> Decimal:
    """What a settlement's split instruction sends in total, receiver by receiver as
    payments.services.settlement.split_receivers builds it (non-positive parts are not sent)."""
    from payments.services.settlement import split_parts

    return sum((amount for _type, _key, amount in split_parts(settlement=settlement, lines=lines)), ZERO)


def _ours_found_by_provider(*, provider: str, keys: set[tuple[str, str]]) -> dict[tuple[str, str], _Side]:
    """Our side of every movement the provider lists, whatever its day or status."""
    references = {reference for kind, reference in keys if kind == CAPTURE}
    external_ids = {reference for kind, reference in keys if kind != CAPTURE}
    ours: dict[tuple[str, str], _Side] = {}
    for payment in Payment.objects.filter(reference__in=references):
        side = _captures([payment])[(CAPTURE, payment.reference)]
        if payment.provider != provider:
            side.confirmed = False
            side.detail = gettext("Payment %(reference)s was taken through %(provider)s.") % {
                "reference": payment.reference,
                "provider": payment.provider,
            }
        elif payment.status != Payment.Status.CAPTURED:
            side.confirmed = False
            side.detail = gettext("Payment %(reference)s is %(status)s in our records.") % {
                "reference": payment.reference,
                "status": payment.get_status_display(),
            }
        ours[(CAPTURE, payment.reference)] = side
    calls = ProviderCall.objects.filter(provider=provider, external_id__in=external_ids).select_related("payment")
    ours.update(_calls(calls))
    return ours


def _ours_on_day(*, provider: str, day: date) -> dict[tuple[str, str], _Side]:
    """Our confirmed movements of the day, which the provider's statement must list."""
    start, end = day_bounds(day)
    ours = _captures(
        Payment.objects.filter(
            provider=provider, status=Payment.Status.CAPTURED, captured_at__gte=start, captured_at__lt=end
        )
    )
    ours.update(
        _calls(
            ProviderCall.objects.filter(
                provider=provider,
                kind__in=CALL_KINDS,
                status=ProviderCall.Status.SUCCEEDED,
                completed_at__gte=start,
                completed_at__lt=end,
            ).select_related("payment")
        )
    )
    return ours


def _compare(*, provider: str, day: date, records: list[ProviderRecord]) -> list[Found]:
    theirs, found = _provider_side(records)
    known = _ours_found_by_provider(provider=provider, keys=set(theirs))
    for (kind, reference), their in theirs.items():
        our = known.get((kind, reference))
        if our is None or not our.confirmed:
            found.append(
                Found(
                    kind=MismatchKind.MISSING_IN_LEDGER,
                    reference=reference,
                    currency=their.currency,
                    provider_amount=their.amount,
                    detail=our.detail
                    if our
                    else gettext("The provider lists a %(kind)s we have no record of.") % {"kind": kind},
                )
            )
        elif our.currency != their.currency:
            found.append(
                Found(
                    kind=MismatchKind.CURRENCY,
                    reference=reference,
                    currency=their.currency,
                    ledger_amount=our.amount,
                    provider_amount=their.amount,
                    detail=gettext("%(kind)s in %(ours)s in our records, in %(theirs)s at the provider.")
                    % {"kind": kind, "ours": our.currency, "theirs": their.currency},
                )
            )
        elif our.amount != their.amount:
            found.append(
                Found(
                    kind=MismatchKind.AMOUNT,
                    reference=reference,
                    currency=their.currency,
                    ledger_amount=our.amount,
                    provider_amount=their.amount,
                    detail=gettext("%(kind)s of %(ours)s in our records, %(theirs)s at the provider.")
                    % {"kind": kind, "ours": our.amount, "theirs": their.amount},
                )
            )
    for (kind, reference), our in _ours_on_day(provider=provider, day=day).items():
        if (kind, reference) not in theirs:
            found.append(
                Found(
                    kind=MismatchKind.MISSING_AT_PROVIDER,
                    reference=reference,
                    currency=our.currency,
                    ledger_amount=our.amount,
                    detail=gettext("Our %(kind)s of %(day)s is not on the provider's statement of that day.")
                    % {"kind": kind, "day": day.isoformat()},
                )
            )
    return found


def _sum_by_currency(queryset, amount_field: str = "amount") -> dict[str, Decimal]:
    return {
        currency: total or ZERO
        for currency, total in queryset.values_list("currency").annotate(total=Sum(amount_field)).order_by()
    }


def clearing_expected(*, provider: str, as_of: datetime) -> dict[str, Decimal]:
    """What the provider's clearing account must hold at `as_of` according to the payments,
    refunds and payouts (invariant 11), per currency."""
    expected: dict[str, Decimal] = {}

    def add(totals: dict[str, Decimal], sign: int) -> None:
        for currency, total in totals.items():
            expected[currency] = expected.get(currency, ZERO) + sign * total

    add(
        _sum_by_currency(
            Payment.objects.filter(
                provider=provider, status=Payment.Status.CAPTURED, needs_refund=False, captured_at__lte=as_of
            )
        ),
        +1,
    )
    # Money received that no shop order takes (over-payments, captures the order refused,
    # late bank credits) enters clearing with the refund that sends it back.
    add(
        _sum_by_currency(
            Refund.objects.filter(payment__provider=provider, vendor_order__isnull=True, created_at__lte=as_of)
        ),
        +1,
    )
    add(
        _sum_by_currency(
            Refund.objects.filter(payment__provider=provider, status=Refund.Status.SUCCEEDED, completed_at__lte=as_of)
        ),
        -1,
    )
    add(_sum_by_currency(Payout.objects.filter(provider=provider, status=Payout.Status.PAID, paid_at__lte=as_of)), -1)
    return expected


def _clearing_check(*, provider: str, day: date) -> list[Found]:
    _start, end = day_bounds(day)
    as_of = end - timedelta(microseconds=1)
    expected = clearing_expected(provider=provider, as_of=as_of)
    accounts = {
        account.currency: account
        for account in LedgerAccount.objects.filter(
            owner_type=ledger.PROVIDER, owner_key=provider, purpose=ledger.CLEARING
        )
    }
    found = []
    for currency in sorted(set(expected) | set(accounts)):
        account = accounts.get(currency)
        actual = ledger.account_balance(account=account, as_of=as_of) if account else quantize(ZERO, currency)
        wanted = quantize(expected.get(currency, ZERO), currency)
        if actual != wanted:
            found.append(
                Found(
                    kind=MismatchKind.CLEARING_BALANCE,
                    reference=f"provider:{provider}:clearing",
                    currency=currency,
                    ledger_amount=actual,
                    provider_amount=wanted,
                    detail=gettext(
                        "At the end of %(day)s the ledger's clearing holds %(actual)s; captures − refunds − "
                        "payouts recorded say %(expected)s."
                    )
                    % {"day": day.isoformat(), "actual": actual, "expected": wanted},
                )
            )
    return found


def open_mismatches(*, run: ReconciliationRun):
    return run.mismatches.filter(resolved_at__isnull=True).order_by("pk")
