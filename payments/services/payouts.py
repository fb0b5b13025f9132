"""Payouts (PAYMENTS.md section 3.3): a party's available money sent to its own account at the
provider. available -> payout when requested; payout -> provider clearing when the provider
confirms; a failed payout goes back to available (re-credited). A payout never exceeds the
available balance, which is read under a row lock on the party's available account so two
requests at once cannot overdraw it.
"""

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from marketplace.errors import DomainError
from marketplace.models import User
from marketplace.money import quantize
from marketplace.services import audit_record
from payments import ledger
from payments.models import LedgerAccount, Payout, ProviderCall
from payments.services.calls import call_enqueue, receiver_account_for

ZERO = Decimal(0)


class PayoutRefused(DomainError):
    code = "payout_refused"
    http_status = 409
    default_message = "{reason}"


def available_money(*, owner_type: str, owner_key: str | int, currency: str) -> Decimal:
    """What the party may withdraw: its available account's credit balance (negative = it owes)."""
    account = LedgerAccount.objects.filter(
        owner_type=owner_type, owner_key=str(owner_key), purpose=ledger.AVAILABLE, currency=currency
    ).first()
    if account is None:
        return quantize(ZERO, currency)
    return -ledger.account_balance(account=account)


def payout_request(
    *,
    owner_type: str,
    owner_key: str | int,
    currency: str,
    actor: User | None,
    amount: Decimal | None = None,
    provider: str | None = None,
) -> Payout:
    """Requests a payout of `amount` (default: everything available). One transaction: the
    Payout, its ledger entry (available -> payout) and its provider call."""
    provider = provider or settings.PAYOUT_PROVIDER
    owner_key = str(owner_key)
    with transaction.atomic():
        account = ledger.account_get_or_create(
            owner_type=owner_type, owner_key=owner_key, purpose=ledger.AVAILABLE, currency=currency
        )
        LedgerAccount.objects.select_for_update().get(pk=account.pk)  # serialises payouts of this party
        available = -ledger.account_balance(account=account)
        amount = available if amount is None else quantize(amount, currency)
        if amount <= 0:
            raise PayoutRefused(reason=gettext("There is no available balance to pay out."))
        if amount > available:
            raise PayoutRefused(
                reason=gettext("At most %(amount)s %(currency)s is available.")
                % {"amount": available, "currency": currency}
            )
        receiver = receiver_account_for(owner_type=owner_type, owner_key=owner_key, provider=provider)
        if receiver is None:
            raise PayoutRefused(reason=gettext("No payout account at the payment provider is registered yet."))
        reference = f"PO-{secrets.token_hex(8).upper()}"
        ledger.ledger_post(
            idempotency_key=f"payout:{reference}:sent",
            kind="payout",
            postings=[
                (account, amount),
                (
                    ledger.account_get_or_create(
                        owner_type=owner_type, owner_key=owner_key, purpose=ledger.PAYOUT, currency=currency
                    ),
                    -amount,
                ),
            ],
            memo=f"Payout {reference}",
            reference={"payout": reference},
        )
        payout = Payout.objects.create(
            owner_type=owner_type,
            owner_key=owner_key,
            vendor_id=int(owner_key) if owner_type == ledger.VENDOR else None,
            provider=provider,
            receiver=receiver,
            amount=amount,
            currency=currency,
            reference=reference,
            requested_by=actor,
        )
        call = call_enqueue(provider=provider, kind=ProviderCall.Kind.PAYOUT, external_id=reference)
        Payout.objects.filter(pk=payout.pk).update(call=call)
        audit_record(
            actor=actor, action="payout.requested", obj=payout, data={"amount": str(amount), "currency": currency}
        )
    payout.refresh_from_db()
    return payout


def payout_mark_sent(*, call: ProviderCall) -> None:
    Payout.objects.filter(call=call, status=Payout.Status.REQUESTED).update(
        status=Payout.Status.SENT, sent_at=timezone.now()
    )


def payout_outcome(*, call: ProviderCall, succeeded: bool, detail: str) -> None:
    """Inside call_outcome's transaction: paid (payout -> clearing) or failed (payout -> available)."""
    payout = Payout.objects.filter(call=call).first()
    if payout is None:
        return
    now = timezone.now()
    open_statuses = [Payout.Status.REQUESTED, Payout.Status.SENT]
    if succeeded:
        changed = Payout.objects.filter(pk=payout.pk, status__in=open_statuses).update(
            status=Payout.Status.PAID, paid_at=now, sent_at=payout.sent_at or now
        )
    else:
        changed = Payout.objects.filter(pk=payout.pk, status__in=open_statuses).update(
            status=Payout.Status.FAILED, failed_at=now, failure_reason=detail[:300]
        )
    if not changed:
        return
    currency = payout.currency
    payout_account = ledger.account_get_or_create(
        owner_type=payout.owner_type, owner_key=payout.owner_key, purpose=ledger.PAYOUT, currency=currency
    )
    if succeeded:
        other = ledger.provider_clearing(payout.provider, currency)
        key, kind = f"payout:{payout.reference}:paid", "payout_paid"
    else:
        other = ledger.account_get_or_create(
            owner_type=payout.owner_type, owner_key=payout.owner_key, purpose=ledger.AVAILABLE, currency=currency
        )
        key, kind = f"payout:{payout.reference}:failed", "payout_failed"
    ledger.ledger_post(
        idempotency_key=key,
        kind=kind,
        postings=[(payout_account, payout.amount), (other, -payout.amount)],
        memo=f"Payout {payout.reference} {'paid' if succeeded else 'failed: ' + detail[:100]}",
        reference={"payout": payout.reference},
    )
    audit_record(
        actor=None,
        action="payout.paid" if succeeded else "payout.failed",
        obj=payout,
        data={"amount": str(payout.amount), "detail": detail[:200]},
    )
