"""The sandbox provider: a hosted gateway that lives inside the app but behaves like a real one.

Two sides, kept apart as they would be across the internet:
- the gateway (SandboxCharge rows, the hosted page, the signed server-to-server notification),
  which knows nothing of orders or payments;
- the client (SandboxProvider), which the payments services call like any other provider.

Notification wire format: JSON body {id, type, reference, charge, amount, currency, created};
headers X-Sandbox-Timestamp (unix seconds) and X-Sandbox-Signature, the hex HMAC-SHA256 of
f"{timestamp}.{body}" with settings.SANDBOX_PAYMENT_SECRET.

The merchant's instructions (refund, split, split return, finish splitting, payout) are
SandboxOperation rows on the gateway's side, answered synchronously. Each carries the merchant's
idempotency key (the external id): the same key returns the first answer, the same key with other
parameters is refused. The gateway enforces its own rules the way WeChat Pay's profit sharing
does: a split comes out of the charge's frozen, unsplit money; a split return gives back at most
what that receiver got from that split; a refund needs the money back first (at most the charge
less what was refunded and what is still split out); after splitting is finished nothing more can
be split. Payouts to an account starting with "fail" are refused, so tests can exercise failures,
and `sandbox_outage(instructions=N)` takes the gateway down for the next N instructions (answered
as unavailable, nothing recorded), so tests can exercise retries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import classproperty
from django.utils.translation import gettext

from marketplace.errors import NotFound, PaymentError
from marketplace.money import InvalidAmount, parse_amount, quantize
from payments.models import SandboxCharge, SandboxOperation
from payments.providers.base import (
    CallResult,
    Capabilities,
    Notification,
    PaymentProvider,
    ProviderRecord,
    ProviderResult,
    ProviderUnavailable,
    Receiver,
    StartResult,
)

if TYPE_CHECKING:
    from payments.models import Payment

logger = logging.getLogger(__name__)

TIMESTAMP_HEADER = "X-Sandbox-Timestamp"
SIGNATURE_HEADER = "X-Sandbox-Signature"
EVENT_SUCCEEDED = "payment.succeeded"
EVENT_FAILED = "payment.failed"
DELIVERY_TIMEOUT_SECONDS = 10


class NotificationDeliveryError(Exception):
    """The merchant could not be reached or answered 5xx: the worker retries with backoff."""


def sign(body: bytes | str, timestamp: int | str) -> str:
    """The signature the gateway puts on a notification (tests use it to speak as the gateway)."""
    if isinstance(body, str):
        body = body.encode()
    message = str(timestamp).encode() + b"." + body
    return hmac.new(settings.SANDBOX_PAYMENT_SECRET.encode(), message, hashlib.sha256).hexdigest()


# --- The gateway's side ---------------------------------------------------------------


def sandbox_charge_open(
    *, merchant_reference: str, amount: Decimal, currency: str, description: str, notify_url: str, return_url: str
) -> SandboxCharge:
    return SandboxCharge.objects.create(
        token=secrets.token_urlsafe(32),
        merchant_reference=merchant_reference,
        description=description[:200],
        amount=amount,
        currency=currency,
        notify_url=notify_url,
        return_url=return_url,
    )


def sandbox_charge_get(*, token: str) -> SandboxCharge:
    charge = SandboxCharge.objects.filter(token=token).first()
    if charge is None:
        raise NotFound(gettext("This payment page does not exist."))
    return charge


def sandbox_charge_complete(*, token: str, succeeded: bool) -> SandboxCharge:
    """The buyer pressed Pay or Fail on the hosted page. Only the first press counts (conditional
    UPDATE on status=open); the notification is sent after commit by a worker, never inside the
    transaction, so in inline mode the server can receive its own webhook on another thread."""
    target = SandboxCharge.Status.SUCCEEDED if succeeded else SandboxCharge.Status.FAILED
    with transaction.atomic():
        charge = sandbox_charge_get(token=token)
        changed = SandboxCharge.objects.filter(pk=charge.pk, status=SandboxCharge.Status.OPEN).update(
            status=target, completed_at=timezone.now()
        )
        if changed:
            from payments.tasks import sandbox_notification_send

            charge_id = charge.pk
            transaction.on_commit(lambda: sandbox_notification_send.delay(charge_id), robust=True)
    charge.refresh_from_db()
    return charge


def notification_payload(charge: SandboxCharge) -> dict:
    if charge.status == SandboxCharge.Status.OPEN:
        raise ValueError("an open charge has nothing to notify")
    event_type = EVENT_SUCCEEDED if charge.status == SandboxCharge.Status.SUCCEEDED else EVENT_FAILED
    return {
        # One event per charge outcome: every retry re-sends the same id, so the merchant can de-duplicate.
        "id": f"evt_{charge.pk}_{charge.status}",
        "type": event_type,
        "reference": charge.merchant_reference,
        "charge": charge.provider_reference,
        "amount": str(quantize(charge.amount, charge.currency)),
        "currency": charge.currency,
        "created": int((charge.completed_at or timezone.now()).timestamp()),
    }


def notification_body(charge: SandboxCharge) -> bytes:
    return json.dumps(notification_payload(charge), separators=(",", ":"), sort_keys=True).encode()


def signed_headers(body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(body, timestamp),
    }


def sandbox_notification_deliver(*, charge_id: int) -> bool:
    """POST the signed notification to the merchant. Idempotent: a charge already acknowledged is
    not sent again. Returns True when accepted (2xx), False when refused for good (4xx: a retry
    cannot change the answer); raises NotificationDeliveryError (network error, 5xx) so the worker retries."""
    charge = SandboxCharge.objects.get(pk=charge_id)
    if charge.notified_at is not None:
        return True
    body = notification_body(charge)
    request = urllib.request.Request(charge.notify_url, data=body, headers=signed_headers(body), method="POST")
    error = ""
    accepted = False
    try:
        with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT_SECONDS) as response:  # noqa: S310 - our own URL
            accepted = 200 <= response.status < 300
            if not accepted:
                error = f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        error = f"HTTP {exc.code}: {exc.read(200).decode(errors='replace')}"
        if exc.code < 500:
            _record_attempt(charge_id, error=error)
            logger.warning("sandbox notification for %s refused: %s", charge.merchant_reference, error)
            return False
    except (urllib.error.URLError, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    _record_attempt(charge_id, error=error, accepted=accepted)
    if not accepted:
        raise NotificationDeliveryError(error)
    return True


def _record_attempt(charge_id: int, *, error: str, accepted: bool = False) -> None:
    fields = {"notify_attempts": F("notify_attempts") + 1, "last_notify_error": error[:300]}
    if accepted:
        fields["notified_at"] = timezone.now()
    SandboxCharge.objects.filter(pk=charge_id).update(**fields)


# --- The gateway's side: merchant instructions ------------------------------------------

# WeChat Pay allows at most 50 receivers per split request.
MAX_SPLIT_RECEIVERS = 50
Operation = SandboxOperation.Kind


class IdempotencyConflict(Exception):
    """The external id was used before with other parameters (Stripe's idempotency_error)."""


class _Refused(Exception):
    """The gateway refuses the instruction for good; recorded as a failed operation."""


class GatewayUnavailable(Exception):
    """The gateway is down (its 503): nothing is recorded, the merchant sends the same instruction again."""


# The count of instructions the gateway still answers as unavailable. In the cache, so that a test
# can take the gateway down for workers running in other processes.
OUTAGE_CACHE_KEY = "sandbox:outage"


def sandbox_outage(*, instructions: int) -> None:
    """Takes the gateway down for the next `instructions` merchant instructions (forgotten after ten minutes)."""
    cache.set(OUTAGE_CACHE_KEY, instructions, timeout=600)


def _refuse_while_down(*, kind: str, external_id: str) -> None:
    if not cache.get(OUTAGE_CACHE_KEY):
        return
    try:
        left = cache.decr(OUTAGE_CACHE_KEY)
    except ValueError:  # forgotten meanwhile
        return
    if left >= 0:
        logger.warning("sandbox gateway down: %s %s refused as unavailable", kind, external_id)
        raise GatewayUnavailable(f"the sandbox gateway is unavailable ({kind} {external_id})")


def _canonical(amount: Decimal, currency: str) -> str:
    """The amount as the gateway compares repeated requests: 10, 10.0 and 10.00 are one amount;
    an amount finer than the currency allows keeps its digits, so it is refused, not rounded."""
    rounded = quantize(amount, currency)
    return str(rounded) if rounded == amount else str(amount)


def _sum(queryset) -> Decimal:
    return queryset.aggregate(total=Sum("amount"))["total"] or Decimal("0")


def _charge_by_reference(reference: str) -> SandboxCharge | None:
    prefix = "sbx_ch_"
    if not reference.startswith(prefix) or not reference[len(prefix) :].isdigit():
        return None
    return SandboxCharge.objects.filter(pk=int(reference[len(prefix) :])).first()


@dataclass(frozen=True)
class ChargeBalances:
    """What the gateway holds for one charge, derived from its succeeded operations."""

    captured: Decimal
    subsidized: Decimal
    split: Decimal
    returned: Decimal
    refunded: Decimal
    finished: bool

    @property
    def held(self) -> Decimal:
        """Money that has not left the merchant's side (not refunded, not split out), with what
        the platform added to it."""
        return self.captured + self.subsidized - self.refunded - (self.split - self.returned)

    @property
    def frozen(self) -> Decimal:
        """Money still available to split: all that is held, until splitting is finished."""
        return Decimal("0") if self.finished else self.held


def charge_balances(charge: SandboxCharge) -> ChargeBalances:
    done = charge.operations.filter(status=SandboxOperation.Status.SUCCEEDED)
    return ChargeBalances(
        captured=charge.amount if charge.status == SandboxCharge.Status.SUCCEEDED else Decimal("0"),
        subsidized=_sum(done.filter(kind=Operation.SUBSIDY)),
        split=_sum(done.filter(kind=Operation.SPLIT)),
        returned=_sum(done.filter(kind=Operation.SPLIT_RETURN)),
        refunded=_sum(done.filter(kind=Operation.REFUND)),
        finished=done.filter(kind=Operation.SPLIT_FINISH).exists(),
    )


def _operate(
    *, kind: str, external_id: str, charge_reference: str | None, currency: str, parameters: dict, decide
) -> SandboxOperation:
    """Runs one instruction exactly once per external id. `decide(charge)` checks the gateway's
    rules and returns the operation's fields, or raises _Refused.

    The charge row is locked while its balances are read and the operation written, so two
    instructions against one charge cannot both spend the same frozen money; the unique external
    id makes two deliveries of the same instruction record one operation."""
    if not external_id or len(external_id) > 64:
        raise IdempotencyConflict("the external id must be 1 to 64 characters")
    _refuse_while_down(kind=kind, external_id=external_id)
    for _attempt in range(2):
        try:
            with transaction.atomic():
                charge = None
                if charge_reference is not None:
                    found = _charge_by_reference(charge_reference)
                    if found is not None:
                        charge = SandboxCharge.objects.select_for_update().get(pk=found.pk)
                existing = SandboxOperation.objects.filter(external_id=external_id).first()
                if existing is not None:
                    if existing.kind != kind or existing.parameters != parameters:
                        raise IdempotencyConflict(
                            f"external id {external_id} was used for another {existing.kind} instruction"
                        )
                    return existing
                fields = {"amount": Decimal("0"), "status": SandboxOperation.Status.SUCCEEDED}
                try:
                    if charge_reference is not None:
                        if charge is None or charge.status != SandboxCharge.Status.SUCCEEDED:
                            raise _Refused("no captured charge " + charge_reference)
                        if charge.currency != currency:
                            raise _Refused(f"the charge is in {charge.currency}, not {currency}")
                    fields.update(decide(charge))
                except _Refused as refusal:
                    fields.update(status=SandboxOperation.Status.FAILED, failure_reason=str(refusal)[:200])
                return SandboxOperation.objects.create(
                    kind=kind,
                    external_id=external_id,
                    charge=charge,
                    currency=currency,
                    parameters=parameters,
                    **fields,
                )
        except IntegrityError:
            # Another delivery of the same instruction committed first: answer with its operation.
            continue
    raise IdempotencyConflict(f"external id {external_id} could not be recorded")


def _positive(amount: Decimal, currency: str) -> Decimal:
    if amount != quantize(amount, currency) or amount <= 0:
        raise _Refused(f"{amount} is not a positive amount in {currency}")
    return amount


def sandbox_refund(*, charge_reference: str, external_id: str, amount: Decimal, currency: str) -> SandboxOperation:
    def decide(charge: SandboxCharge) -> dict:
        _positive(amount, currency)
        balances = charge_balances(charge)
        refundable = balances.captured - balances.refunded
        if amount > refundable:
            raise _Refused(f"refund {amount} exceeds the refundable {refundable}")
        if amount > balances.held:
            raise _Refused(f"refund {amount} exceeds the {balances.held} not split out: return the split first")
        return {"amount": amount}

    return _operate(
        kind=Operation.REFUND,
        external_id=external_id,
        charge_reference=charge_reference,
        currency=currency,
        parameters={"charge": charge_reference, "amount": _canonical(amount, currency), "currency": currency},
        decide=decide,
    )


def sandbox_split(*, charge_reference: str, external_id: str, receivers: list[dict], currency: str) -> SandboxOperation:
    """receivers: [{"account", "amount"}]; the total comes out of the charge's frozen money."""

    def decide(charge: SandboxCharge) -> dict:
        if not receivers or len(receivers) > MAX_SPLIT_RECEIVERS:
            raise _Refused(f"a split has 1 to {MAX_SPLIT_RECEIVERS} receivers")
        total = Decimal("0")
        for receiver in receivers:
            if not receiver["account"]:
                raise _Refused("every receiver needs an account")
            total += _positive(Decimal(receiver["amount"]), currency)
        balances = charge_balances(charge)
        if balances.finished:
            raise _Refused("splitting of this charge is finished")
        if total > balances.frozen:
            raise _Refused(f"split {total} exceeds the unsplit {balances.frozen}")
        return {"amount": total, "receivers": receivers}

    return _operate(
        kind=Operation.SPLIT,
        external_id=external_id,
        charge_reference=charge_reference,
        currency=currency,
        parameters={"charge": charge_reference, "receivers": receivers, "currency": currency},
        decide=decide,
    )


def sandbox_split_return(
    *, charge_reference: str, external_id: str, split_external_id: str, account: str, amount: Decimal, currency: str
) -> SandboxOperation:
    """Takes back part of what one receiver got from one split (WeChat's 分账回退)."""

    def decide(charge: SandboxCharge) -> dict:
        _positive(amount, currency)
        split = SandboxOperation.objects.filter(
            external_id=split_external_id, kind=Operation.SPLIT, status=SandboxOperation.Status.SUCCEEDED
        ).first()
        if split is None or split.charge_id != charge.pk:
            raise _Refused(f"no succeeded split {split_external_id} of this charge")
        received = sum(
            (Decimal(receiver["amount"]) for receiver in split.receivers if receiver["account"] == account),
            Decimal("0"),
        )
        already = _sum(split.returns.filter(receiver_account=account, status=SandboxOperation.Status.SUCCEEDED))
        if amount > received - already:
            raise _Refused(f"return {amount} exceeds the {received - already} {account} still has from this split")
        return {"amount": amount, "split": split, "receiver_account": account}

    return _operate(
        kind=Operation.SPLIT_RETURN,
        external_id=external_id,
        charge_reference=charge_reference,
        currency=currency,
        parameters={
            "charge": charge_reference,
            "split": split_external_id,
            "account": account,
            "amount": _canonical(amount, currency),
            "currency": currency,
        },
        decide=decide,
    )


def sandbox_subsidy(*, charge_reference: str, external_id: str, amount: Decimal, currency: str) -> SandboxOperation:
    """The platform adds its own money to a charge before splitting it (WeChat's 补差), only
    while the charge can still be split."""

    def decide(charge: SandboxCharge) -> dict:
        _positive(amount, currency)
        balances = charge_balances(charge)
        if balances.finished:
            raise _Refused("splitting of this charge is finished: a subsidy comes before the split")
        return {"amount": amount}

    return _operate(
        kind=Operation.SUBSIDY,
        external_id=external_id,
        charge_reference=charge_reference,
        currency=currency,
        parameters={"charge": charge_reference, "amount": _canonical(amount, currency), "currency": currency},
        decide=decide,
    )


def sandbox_split_finish(*, charge_reference: str, external_id: str, currency: str) -> SandboxOperation:
    """Ends splitting: the unsplit remainder is released to the merchant (recorded as the amount)."""

    def decide(charge: SandboxCharge) -> dict:
        balances = charge_balances(charge)
        if balances.finished:
            raise _Refused("splitting of this charge is already finished")
        return {"amount": balances.frozen}

    return _operate(
        kind=Operation.SPLIT_FINISH,
        external_id=external_id,
        charge_reference=charge_reference,
        currency=currency,
        parameters={"charge": charge_reference, "currency": currency},
        decide=decide,
    )


def sandbox_payout(*, external_id: str, account: str, amount: Decimal, currency: str) -> SandboxOperation:
    def decide(_charge: None) -> dict:
        _positive(amount, currency)
        if not account or account.startswith("fail"):
            raise _Refused(f"the receiving account {account!r} refused the payout")
        return {"amount": amount, "receiver_account": account}

    return _operate(
        kind=Operation.PAYOUT,
        external_id=external_id,
        charge_reference=None,
        currency=currency,
        parameters={"account": account, "amount": _canonical(amount, currency), "currency": currency},
        decide=decide,
    )


def sandbox_statement(*, day) -> list[dict]:
    """The gateway's statement of one (local) day: captures and succeeded operations."""
    lines = [
        {
            "reference": charge.merchant_reference,
            "kind": "capture",
            "amount": charge.amount,
            "currency": charge.currency,
            "id": charge.provider_reference,
        }
        for charge in SandboxCharge.objects.filter(
            status=SandboxCharge.Status.SUCCEEDED, completed_at__date=day
        ).order_by("completed_at", "pk")
    ]
    operations = SandboxOperation.objects.filter(
        status=SandboxOperation.Status.SUCCEEDED, created_at__date=day
    ).exclude(kind=Operation.SPLIT_FINISH)
    lines += [
        {
            "reference": operation.external_id,
            "kind": operation.kind,
            "amount": operation.amount,
            "currency": operation.currency,
            "id": operation.provider_reference,
        }
        for operation in operations.order_by("created_at", "pk")
    ]
    return lines


# --- The client (what the payments services call) -------------------------------------


class SandboxProvider(PaymentProvider):
    code = "sandbox"
    name = "Sandbox"

    @classproperty
    def capabilities(cls) -> Capabilities:  # noqa: N805 - a class property
        # Like WeChat Pay: profit sharing with money frozen up to 180 days, payouts, refunds.
        return Capabilities(
            can_refund=True,
            can_split=True,
            can_payout=True,
            can_subsidize=True,
            freeze_days=180,
            fee_rate=settings.SANDBOX_FEE_RATE,
        )

    def start(self, payment: Payment, *, return_url: str, notify_url: str) -> StartResult:
        charge = sandbox_charge_open(
            merchant_reference=payment.reference,
            amount=payment.amount,
            currency=payment.currency,
            description=f"Order {payment.order.number}",
            notify_url=notify_url,
            return_url=return_url,
        )
        return StartResult(
            redirect_url=reverse("payments:sandbox-page", args=[charge.token]),
            provider_reference=charge.provider_reference,
        )

    def verify_notification(self, *, headers: Mapping[str, str], body: bytes) -> Notification:
        lowered = {key.lower(): value for key, value in headers.items()}
        raw_timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
        signature = lowered.get(SIGNATURE_HEADER.lower(), "")
        if not raw_timestamp or not signature:
            raise PaymentError(gettext("Missing signature headers."))
        try:
            timestamp = int(raw_timestamp)
        except ValueError:
            raise PaymentError(gettext("Malformed signature timestamp.")) from None
        if abs(time.time() - timestamp) > settings.PAYMENT_WEBHOOK_TOLERANCE_SECONDS:
            raise PaymentError(gettext("Notification timestamp is outside the tolerance window."))
        if not hmac.compare_digest(sign(body, timestamp), signature.strip().lower()):
            raise PaymentError(gettext("Invalid signature."))
        try:
            payload = json.loads(body)
            currency = str(payload["currency"])
            amount = parse_amount(payload["amount"], currency)
            event_type = str(payload["type"])
            notification = Notification(
                event_id=str(payload["id"]),
                event_type=event_type,
                payment_reference=str(payload["reference"]),
                provider_reference=str(payload.get("charge", "")),
                amount=amount,
                currency=currency,
                status={EVENT_SUCCEEDED: Notification.SUCCEEDED, EVENT_FAILED: Notification.FAILED}.get(
                    event_type, Notification.OTHER
                ),
                payload=payload,
            )
        except (ValueError, TypeError, KeyError, InvalidAmount):
            raise PaymentError(gettext("Malformed notification body.")) from None
        if not notification.event_id or len(notification.event_id) > 128:
            raise PaymentError(gettext("Malformed notification body."))
        return notification

    # Merchant instructions: the gateway answers synchronously, so every call is SUCCEEDED or
    # FAILED at once; an external id reused with other parameters is refused (FAILED).

    def refund(self, payment: Payment, *, external_id: str, amount: Decimal, reason: str) -> ProviderResult:
        return _result(
            lambda: sandbox_refund(
                charge_reference=payment.provider_reference,
                external_id=external_id,
                amount=amount,
                currency=payment.currency,
            )
        )

    def split(self, payment: Payment, *, external_id: str, receivers: list[Receiver]) -> ProviderResult:
        return _result(
            lambda: sandbox_split(
                charge_reference=payment.provider_reference,
                external_id=external_id,
                receivers=[
                    {
                        "account": receiver.account,
                        "kind": receiver.kind,
                        "amount": _canonical(receiver.amount, payment.currency),
                    }
                    for receiver in receivers
                ],
                currency=payment.currency,
            )
        )

    def split_return(
        self, payment: Payment, *, external_id: str, split_external_id: str, receiver: Receiver
    ) -> ProviderResult:
        return _result(
            lambda: sandbox_split_return(
                charge_reference=payment.provider_reference,
                external_id=external_id,
                split_external_id=split_external_id,
                account=receiver.account,
                amount=receiver.amount,
                currency=payment.currency,
            )
        )

    def subsidy(self, payment: Payment, *, external_id: str, amount: Decimal) -> ProviderResult:
        return _result(
            lambda: sandbox_subsidy(
                charge_reference=payment.provider_reference,
                external_id=external_id,
                amount=amount,
                currency=payment.currency,
            )
        )

    def split_finish(self, payment: Payment, *, external_id: str) -> ProviderResult:
        return _result(
            lambda: sandbox_split_finish(
                charge_reference=payment.provider_reference, external_id=external_id, currency=payment.currency
            )
        )

    def payout(self, *, external_id: str, receiver_account: str, amount: Decimal, currency: str) -> ProviderResult:
        return _result(
            lambda: sandbox_payout(external_id=external_id, account=receiver_account, amount=amount, currency=currency)
        )

    def records(self, *, day) -> list[ProviderRecord]:
        return [
            ProviderRecord(
                reference=line["reference"],
                kind=line["kind"],
                amount=quantize(line["amount"], line["currency"]),
                currency=line["currency"],
                provider_reference=line["id"],
            )
            for line in sandbox_statement(day=day)
        ]


def _result(instruct) -> ProviderResult:
    """The gateway's answer to one instruction, as the payments services see it."""
    try:
        operation = instruct()
    except IdempotencyConflict as conflict:
        return ProviderResult(status=CallResult.FAILED, detail=str(conflict))
    except GatewayUnavailable as down:
        raise ProviderUnavailable(str(down)) from down
    succeeded = operation.status == SandboxOperation.Status.SUCCEEDED
    return ProviderResult(
        status=CallResult.SUCCEEDED if succeeded else CallResult.FAILED,
        provider_reference=operation.provider_reference,
        detail=operation.failure_reason,
        raw={"id": operation.provider_reference, "kind": operation.kind, "amount": str(operation.amount)},
    )
