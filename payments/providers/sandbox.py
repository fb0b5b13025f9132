"""The sandbox provider: a hosted gateway that lives inside the app but behaves like a real one.

Two sides, kept apart as they would be across the internet:
- the gateway (SandboxCharge rows, the hosted page, the signed server-to-server notification),
  which knows nothing of orders or payments;
- the client (SandboxProvider), which the payments services call like any other provider.

Notification wire format: JSON body {id, type, reference, charge, amount, currency, created};
headers X-Sandbox-Timestamp (unix seconds) and X-Sandbox-Signature, the hex HMAC-SHA256 of
f"{timestamp}.{body}" with settings.SANDBOX_PAYMENT_SECRET.
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
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from marketplace.errors import NotFound, PaymentError
from marketplace.money import InvalidAmount, parse_amount, quantize
from payments.models import SandboxCharge
from payments.providers.base import Capabilities, Notification, PaymentProvider, StartResult

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


# --- The client (what the payments services call) -------------------------------------


class SandboxProvider(PaymentProvider):
    code = "sandbox"
    name = "Sandbox"
    capabilities = Capabilities(can_refund=False, can_split=False, can_payout=False)

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
