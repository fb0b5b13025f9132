"""Payments: start a payment with a provider, and act on the provider's verified notifications.

The ledger, splits, settlement and refunds arrive with the split-payments work; a capture that
the order cannot take is recorded and flagged `needs_refund` for it.
"""

import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from marketplace.errors import InvalidTransition, NotFound, PaymentError
from marketplace.models import User
from marketplace.services import audit_record
from orders.models import Order
from orders.services.fulfilment import order_mark_paid
from payments.models import Payment, WebhookEvent
from payments.providers import get_provider
from payments.providers.base import Notification

logger = logging.getLogger(__name__)

CAPTURABLE = [Payment.Status.PENDING, Payment.Status.FAILED, Payment.Status.CANCELLED]


@dataclass(frozen=True)
class PaymentStart:
    payment: Payment
    redirect_url: str


class WebhookOutcome:
    CAPTURED = "captured"
    CAPTURED_NEEDS_REFUND = "captured_needs_refund"
    FAILED = "failed"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


def order_check_payable(*, order: Order, actor: User) -> None:
    """Raises unless the actor may pay this order now (their own, awaiting payment, unexpired)."""
    if not actor.is_authenticated or order.buyer_id != actor.pk:
        raise NotFound(gettext("Order not found."))
    if order.status == Order.Status.PAID:
        raise PaymentError(gettext("This order is already paid."))
    if order.status != Order.Status.PENDING_PAYMENT or order.expires_at <= timezone.now():
        raise PaymentError(gettext("This order has expired and can no longer be paid. Please place it again."))


def payment_start(*, order: Order, actor: User, provider_code: str, site_url: str | None = None) -> PaymentStart:
    """Creates a Payment for the order's grand total and opens it at the provider.

    Two short steps rather than one transaction, on purpose: a real provider is called over the
    network, which must never happen inside a transaction. If the provider call fails, the
    payment is marked failed and the buyer can simply try again.

    `site_url` is where the buyer's browser comes back to (the host they use, from the request);
    the server-to-server notification always goes to settings.SITE_URL."""
    provider = get_provider(provider_code)
    order_check_payable(order=order, actor=actor)
    with transaction.atomic():
        payment = Payment.objects.create(
            order=order,
            provider=provider.code,
            amount=order.grand_total,
            currency=order.currency,
            reference=f"PAY-{secrets.token_hex(10).upper()}",
        )
        audit_record(
            actor=actor, action="payment.started", obj=payment, data={"order": order.number, "provider": provider.code}
        )

    return_url = (site_url or settings.SITE_URL).rstrip("/") + reverse("payments:return", args=[payment.reference])
    notify_url = settings.SITE_URL + reverse("payments:webhook", args=[provider.code])
    try:
        started = provider.start(payment, return_url=return_url, notify_url=notify_url)
    except Exception as exc:
        logger.exception("payment provider %s could not start %s", provider.code, payment.reference)
        Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
            status=Payment.Status.FAILED, failed_at=timezone.now(), failure_reason="The provider could not be reached."
        )
        raise PaymentError(gettext("The payment provider is not available right now. Please try again.")) from exc
    Payment.objects.filter(pk=payment.pk).update(provider_reference=started.provider_reference)
    payment.provider_reference = started.provider_reference
    return PaymentStart(payment=payment, redirect_url=started.redirect_url)


def webhook_receive(*, provider_code: str, headers, body: bytes) -> str:
    """The provider's server-to-server notification, from the raw request.

    Verifies the signature and timestamp over the raw body (PaymentError: nothing is stored),
    refuses amounts or currencies that differ from the Payment (logged and audited, nothing
    captured), then stores the event and acts on it in ONE transaction: the unique
    (provider, event_id) row makes every replay a no-op, even two deliveries at once."""
    provider = get_provider(provider_code)
    notification = provider.verify_notification(headers=headers, body=body)

    payment = (
        Payment.objects.select_related("order")
        .filter(provider=provider.code, reference=notification.payment_reference)
        .first()
    )
    if payment is None:
        logger.warning(
            "%s notification %s for unknown payment %s",
            provider.code,
            notification.event_id,
            notification.payment_reference,
        )
        raise NotFound(gettext("Unknown payment reference."))
    if notification.status != Notification.OTHER and (
        notification.amount != payment.amount or notification.currency != payment.currency
    ):
        logger.error(
            "%s notification %s for %s refused: %s %s notified, %s %s expected",
            provider.code, notification.event_id, payment.reference,
            notification.amount, notification.currency, payment.amount, payment.currency,
        )  # fmt: skip
        audit_record(
            actor=None,
            action="payment.notification_refused",
            obj=payment,
            data={
                "event_id": notification.event_id,
                "reason": "amount_mismatch",
                "notified": f"{notification.amount} {notification.currency}",
                "expected": f"{payment.amount} {payment.currency}",
            },
        )
        raise PaymentError(gettext("Amount or currency does not match the payment."))

    with transaction.atomic():
        try:
            with transaction.atomic():
                event = WebhookEvent.objects.create(
                    provider=provider.code,
                    event_id=notification.event_id,
                    event_type=notification.event_type,
                    payment=payment,
                    payload=notification.payload,
                )
        except IntegrityError:
            return WebhookOutcome.DUPLICATE
        if notification.status == Notification.SUCCEEDED:
            payment = payment_capture(payment=payment, notification=notification)
            outcome = WebhookOutcome.CAPTURED_NEEDS_REFUND if payment.needs_refund else WebhookOutcome.CAPTURED
        elif notification.status == Notification.FAILED:
            payment_fail(payment=payment, notification=notification)
            outcome = WebhookOutcome.FAILED
        else:
            outcome = WebhookOutcome.IGNORED
        WebhookEvent.objects.filter(pk=event.pk).update(outcome=outcome)
    return outcome


def payment_capture(*, payment: Payment, notification: Notification) -> Payment:
    """The provider collected the money. The payment becomes captured (conditional UPDATE) and
    the order paid. Idempotent: an already captured payment is returned unchanged.

    When the order cannot take the money (expired, cancelled, or already paid by another
    payment), the capture is still recorded, because the buyer did pay, but flagged needs_refund
    and audited; the order is not brought back."""
    with transaction.atomic():
        payment.refresh_from_db(fields=["status", "needs_refund"])
        if payment.status == Payment.Status.CAPTURED:
            return payment
        order = payment.order
        # The order row is changed first (conditional UPDATE): concurrent captures of two
        # payments of the same order queue on it, and exactly one of them pays the order.
        try:
            accepted = order_mark_paid(order=order, payment_reference=payment.reference)
            reason = "" if accepted else "order already paid by another payment"
        except InvalidTransition:
            accepted, reason = False, f"order {order.status}"
        now = timezone.now()
        changed = Payment.objects.filter(pk=payment.pk, status__in=CAPTURABLE).update(
            status=Payment.Status.CAPTURED,
            captured_at=now,
            needs_refund=not accepted,
            provider_reference=notification.provider_reference or payment.provider_reference,
        )
        if not changed:
            payment.refresh_from_db()
            if payment.status == Payment.Status.CAPTURED and not accepted:
                return payment  # a concurrent delivery captured it first: nothing more to do
            raise InvalidTransition(
                name=gettext("payment %(number)s") % {"number": payment.reference},
                source=payment.status,
                target=Payment.Status.CAPTURED,
            )
        payment.refresh_from_db()
        audit_record(
            actor=None,
            action="payment.captured",
            obj=payment,
            data={"event_id": notification.event_id, "order": order.number, "amount": str(payment.amount)},
        )
        if not accepted:
            logger.error("payment %s captured but %s: needs refund", payment.reference, reason)
            audit_record(
                actor=None, action="payment.needs_refund", obj=payment, data={"reason": reason, "order": order.number}
            )
    return payment


def payment_fail(*, payment: Payment, notification: Notification) -> Payment:
    """The provider reports the payment failed: pending -> failed. The order stays awaiting
    payment, so the buyer can start a new payment until it expires. A failure reported after a
    capture changes nothing."""
    with transaction.atomic():
        changed = Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
            status=Payment.Status.FAILED,
            failed_at=timezone.now(),
            failure_reason=str(notification.payload.get("failure_reason", "Declined by the provider."))[:200],
        )
        payment.refresh_from_db()
        if changed:
            audit_record(actor=None, action="payment.failed", obj=payment, data={"event_id": notification.event_id})
    return payment
