"""The outbox of outgoing provider calls: split instructions, split returns, refunds, payouts.

A call is written in the same transaction as the ledger entry that makes it necessary, then
sent after commit by a worker (never inside a transaction). Every attempt carries the call's
`external_id`, identical on every retry (invariant 23), so the provider de-duplicates it.

Sending is leased: a worker claims a due call with a conditional UPDATE that also pushes
`next_attempt_at` into the future (the backoff), so two workers never send the same call at
once, and a worker killed mid-call leaves a call that is simply sent again, with the same id,
when the lease runs out. The outcome (now, or later from a verified notification) is applied
once: the UPDATE from SENT/PENDING to a final status gates the effects.
"""

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from marketplace.money import quantize
from marketplace.services import audit_record
from payments.models import Payment, ProviderCall, ReceiverAccount
from payments.providers import get_provider_class
from payments.providers.base import CallResult, ProviderResult, ProviderUnavailable

logger = logging.getLogger(__name__)

BASE_BACKOFF_SECONDS = 30
MAX_BACKOFF_SECONDS = 3600
OPEN = [ProviderCall.Status.PENDING, ProviderCall.Status.SENT]


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BASE_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


def call_enqueue(
    *,
    provider: str,
    kind: str,
    external_id: str,
    payment: Payment | None = None,
    payload: dict | None = None,
    after: ProviderCall | None = None,
) -> ProviderCall:
    """Records a call to send after commit; the same external id returns the existing call."""
    waiting = after is not None and after.status != ProviderCall.Status.SUCCEEDED
    call, created = ProviderCall.objects.get_or_create(
        external_id=external_id,
        defaults={
            "provider": provider,
            "kind": kind,
            "payment": payment,
            "payload": payload or {},
            "after": after,
            "status": ProviderCall.Status.WAITING if waiting else ProviderCall.Status.PENDING,
        },
    )
    if created and not waiting:
        _send_after_commit([call.pk])
    return call


def _send_after_commit(call_ids: list[int]) -> None:
    from payments.tasks import provider_call_send

    for call_id in call_ids:
        transaction.on_commit(lambda call_id=call_id: provider_call_send.delay(call_id), robust=True)


def receiver_account_for(*, owner_type: str, owner_key: str | int, provider: str) -> ReceiverAccount | None:
    """The party's account at the provider. The sandbox opens one on first use, as a real
    provider's onboarding would have; other providers need the operator to register it."""
    account = ReceiverAccount.objects.filter(owner_type=owner_type, owner_key=str(owner_key), provider=provider).first()
    if account is None and provider == "sandbox":
        account, _created = ReceiverAccount.objects.get_or_create(
            owner_type=owner_type,
            owner_key=str(owner_key),
            provider=provider,
            defaults={"account": f"sbx_{owner_type}_{owner_key or 'main'}", "registered_at": timezone.now()},
        )
    return account


class ReceiverMissing(Exception):
    """A receiver has no account at the provider yet: the call waits (retried) until an admin adds it."""


def call_send(*, call_id: int, now: datetime | None = None) -> ProviderCall:
    """Sends one due call (claimed by a leased conditional UPDATE) and applies the answer."""
    now = now or timezone.now()
    call = ProviderCall.objects.select_related("payment").get(pk=call_id)
    claimed = ProviderCall.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now), pk=call_id, status=ProviderCall.Status.PENDING
    ).update(attempts=call.attempts + 1, next_attempt_at=now + backoff(call.attempts + 1))
    if not claimed:
        return call  # not due, already sent or final: another worker has it
    call.refresh_from_db()
    provider = get_provider_class(call.provider)()
    try:
        result = _dispatch(provider=provider, call=call)
    except ProviderUnavailable as exc:
        ProviderCall.objects.filter(pk=call.pk).update(last_error=str(exc)[:300])
        logger.warning("%s call %s not delivered (attempt %s): %s", call.provider, call.external_id, call.attempts, exc)
        return call
    except ReceiverMissing as exc:
        ProviderCall.objects.filter(pk=call.pk).update(last_error=str(exc)[:300])
        return call
    except NotImplementedError as exc:
        with transaction.atomic():
            ProviderCall.objects.filter(pk=call.pk, status=ProviderCall.Status.PENDING).update(
                status=ProviderCall.Status.NOT_SUPPORTED, last_error=str(exc)[:300], completed_at=timezone.now()
            )
            audit_record(actor=None, action="provider_call.not_supported", obj=call, data={"error": str(exc)[:300]})
        call.refresh_from_db()
        return call
    return call_apply(call=call, result=result)


def _dispatch(*, provider, call: ProviderCall) -> ProviderResult:
    from payments.services import refunds, settlement

    if call.kind == ProviderCall.Kind.SPLIT:
        receivers = settlement.split_receivers(call=call)
        if not receivers:  # everything was paid by coupons the commission covered: nothing to route
            return ProviderResult(status=CallResult.SUCCEEDED, detail="nothing to split")
        return provider.split(call.payment, external_id=call.external_id, receivers=receivers)
    if call.kind == ProviderCall.Kind.SPLIT_RETURN:
        return provider.split_return(
            call.payment,
            external_id=call.external_id,
            split_external_id=call.payload["split_external_id"],
            receiver=refunds.return_receiver(call=call),
        )
    if call.kind == ProviderCall.Kind.SUBSIDY:
        amount = quantize(Decimal(call.payload["amount"]), call.payload["currency"])
        return provider.subsidy(call.payment, external_id=call.external_id, amount=amount)
    if call.kind == ProviderCall.Kind.SPLIT_FINISH:
        unfinished = ProviderCall.objects.filter(
            payment=call.payment,
            kind__in=[ProviderCall.Kind.SUBSIDY, ProviderCall.Kind.SPLIT, ProviderCall.Kind.SPLIT_RETURN],
            status__in=[ProviderCall.Status.WAITING, *OPEN],
        )
        if unfinished.exists():
            raise ProviderUnavailable("waiting for the payment's split calls to finish first")
        return provider.split_finish(call.payment, external_id=call.external_id)
    if call.kind == ProviderCall.Kind.REFUND:
        return provider.refund(
            call.payment,
            external_id=call.external_id,
            amount=refunds.call_amount(call=call),
            reason=call.payload.get("reason", ""),
        )
    if call.kind == ProviderCall.Kind.PAYOUT:
        payout = call.payout
        return provider.payout(
            external_id=call.external_id,
            receiver_account=payout.receiver.account,
            amount=payout.amount,
            currency=payout.currency,
        )
    raise ValueError(f"unknown provider call kind {call.kind}")


def call_apply(*, call: ProviderCall, result: ProviderResult) -> ProviderCall:
    """The provider's answer: PENDING waits for a notification; SUCCEEDED/FAILED are final."""
    if result.status == CallResult.PENDING:
        ProviderCall.objects.filter(pk=call.pk, status=ProviderCall.Status.PENDING).update(
            status=ProviderCall.Status.SENT,
            provider_reference=result.provider_reference[:128],
            response=result.raw or {"detail": result.detail},
        )
        if call.kind == ProviderCall.Kind.PAYOUT:
            from payments.services.payouts import payout_mark_sent

            payout_mark_sent(call=call)
        call.refresh_from_db()
        return call
    return call_outcome(
        external_id=call.external_id,
        succeeded=result.status == CallResult.SUCCEEDED,
        provider_reference=result.provider_reference,
        detail=result.detail,
        raw=result.raw,
    )


def call_outcome(
    *, external_id: str, succeeded: bool, provider_reference: str = "", detail: str = "", raw: dict | None = None
) -> ProviderCall:
    """The final outcome of a call (from its answer or a verified notification). Idempotent:
    only the first outcome moves the call out of PENDING/SENT and applies its effects."""
    from payments.services import payouts, refunds

    with transaction.atomic():
        call = ProviderCall.objects.select_related("payment").get(external_id=external_id)
        target = ProviderCall.Status.SUCCEEDED if succeeded else ProviderCall.Status.FAILED
        changed = ProviderCall.objects.filter(pk=call.pk, status__in=OPEN).update(
            status=target,
            provider_reference=(provider_reference or call.provider_reference)[:128],
            response=raw or {"detail": detail},
            last_error="" if succeeded else detail[:300],
            completed_at=timezone.now(),
        )
        if not changed:
            return call
        call.refresh_from_db()
        audit_record(
            actor=None,
            action=f"provider_call.{target}",
            obj=call,
            data={"kind": call.kind, "external_id": call.external_id, "detail": detail[:200]},
        )
        if call.kind == ProviderCall.Kind.PAYOUT:
            payouts.payout_outcome(call=call, succeeded=succeeded, detail=detail)
        elif call.kind == ProviderCall.Kind.REFUND:
            refunds.refund_outcome(call=call, succeeded=succeeded, detail=detail)
        elif call.kind == ProviderCall.Kind.SUBSIDY and succeeded:
            from payments.services.settlement import subsidy_book

            subsidy_book(call=call)
        if succeeded and call.kind == ProviderCall.Kind.SPLIT and call.payload.get("finish"):
            call_enqueue(
                provider=call.provider,
                kind=ProviderCall.Kind.SPLIT_FINISH,
                external_id=f"finish-{call.payment.reference}",
                payment=call.payment,
            )
        if succeeded:
            released = list(call.followers.filter(status=ProviderCall.Status.WAITING).values_list("pk", flat=True))
            if released:
                ProviderCall.objects.filter(pk__in=released, status=ProviderCall.Status.WAITING).update(
                    status=ProviderCall.Status.PENDING
                )
                _send_after_commit(released)
        else:
            # A call waiting for this one can no longer go out in order (a refund whose split
            # return failed would take money the provider does not hold): it fails too, and the
            # refund is left failed for an admin to settle with the shop.
            for follower in call.followers.filter(status=ProviderCall.Status.WAITING):
                ProviderCall.objects.filter(pk=follower.pk, status=ProviderCall.Status.WAITING).update(
                    status=ProviderCall.Status.PENDING
                )
                call_outcome(
                    external_id=follower.external_id,
                    succeeded=False,
                    detail=f"not sent: {call.kind} {call.external_id} before it failed ({detail[:150]})",
                )
    return call


def calls_send_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Sends every due call (beat job): new ones and those whose backoff has passed."""
    now = now or timezone.now()
    ids = list(
        ProviderCall.objects.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now), status=ProviderCall.Status.PENDING
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for call_id in ids:
        call_send(call_id=call_id, now=now)
    return len(ids)


def call_retry(*, call: ProviderCall, actor) -> ProviderCall:
    """An admin sends a failed or unsupported call again (same external id)."""
    with transaction.atomic():
        ProviderCall.objects.filter(
            pk=call.pk, status__in=[ProviderCall.Status.FAILED, ProviderCall.Status.NOT_SUPPORTED]
        ).update(status=ProviderCall.Status.PENDING, next_attempt_at=None, completed_at=None)
        audit_record(actor=actor, action="provider_call.retried", obj=call, data={"external_id": call.external_id})
        _send_after_commit([call.pk])
    call.refresh_from_db()
    return call
