"""Payments: start a payment with a provider, and act on the provider's verified notifications.

The ledger, splits, settlement and refunds arrive with the split-payments work; a capture that
the order cannot take is recorded and flagged `needs_refund` for it.
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from marketplace.errors import InvalidTransition, NotFound, PaymentError
from marketplace.models import User
from marketplace.services import audit_record
from orders.models import Order
from orders.services.fulfilment import order_mark_paid
from payments.models import Payment, WebhookEvent
from payments.providers import get_provider, get_provider_class
from payments.providers.base import Notification, ProviderUnavailable

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
    CALL_SUCCEEDED = "call_succeeded"
    CALL_FAILED = "call_failed"


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
    if notification.subject == "call":
        return _call_notification_receive(provider_code=provider.code, notification=notification)
    if notification.subject == "bank_credit":
        # A credit on a bank collection account names a transfer memo, not a payment, and may
        # pay part of it: payments.services.bank_transfer matches and adds it up.
        from payments.services.bank_transfer import bank_notification_receive

        return bank_notification_receive(provider_code=provider.code, notification=notification)

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


def _call_notification_receive(*, provider_code: str, notification: Notification) -> str:
    """The verified outcome of one of our outgoing calls (a PayPal refund...): its
    payment_reference is the call's external id. Stored once per event id like any webhook, and
    handed to call_outcome, itself idempotent, in the same transaction."""
    from payments.models import ProviderCall
    from payments.services.calls import call_outcome

    call = ProviderCall.objects.filter(provider=provider_code, external_id=notification.payment_reference).first()
    if call is None:
        logger.warning(
            "%s notification %s for unknown call %s",
            provider_code,
            notification.event_id,
            notification.payment_reference,
        )
        raise NotFound(gettext("Unknown payment reference."))
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = WebhookEvent.objects.create(
                    provider=provider_code,
                    event_id=notification.event_id,
                    event_type=notification.event_type,
                    payment_id=call.payment_id,
                    payload=notification.payload,
                )
        except IntegrityError:
            return WebhookOutcome.DUPLICATE
        if notification.status == Notification.OTHER:
            outcome = WebhookOutcome.IGNORED
        else:
            succeeded = notification.status == Notification.SUCCEEDED
            call_outcome(
                external_id=call.external_id,
                succeeded=succeeded,
                provider_reference=notification.provider_reference,
                detail=notification.event_type,
                raw=notification.payload,
            )
            outcome = WebhookOutcome.CALL_SUCCEEDED if succeeded else WebhookOutcome.CALL_FAILED
        WebhookEvent.objects.filter(pk=event.pk).update(outcome=outcome)
    return outcome


def payment_return_from_provider(*, payment: Payment, cancelled: bool = False) -> Payment:
    """The buyer is back from a provider where they approved the payment, and we capture it now
    (PayPal Orders v2: providers with `capture_order`; the others confirm by notification, and
    the payment is returned unchanged).

    The provider is called outside any transaction, with the same idempotency key on every try;
    its answer then goes through payment_capture / payment_fail like a notification (event id
    "capture:<capture id>"), so the provider's webhook arriving later under its own event id
    changes nothing. Nothing is captured when the buyer cancelled at the provider or when the
    order can no longer take the money (expired, cancelled, paid by another payment): the
    payment fails and the buyer is never charged. While the provider cannot answer, or holds the
    capture pending, the payment stays pending: the return page refreshes and asks again."""
    provider = get_provider_class(payment.provider)()
    capture_order = getattr(provider, "capture_order", None)
    payment.refresh_from_db(fields=["status", "provider_reference"])
    if capture_order is None or payment.status != Payment.Status.PENDING:
        return payment
    order = payment.order
    order.refresh_from_db(fields=["status", "expires_at"])
    if cancelled:
        reason = "Cancelled by the buyer at the provider."
    elif order.status != Order.Status.PENDING_PAYMENT:
        reason = f"Not captured: the order is {order.status}."
    elif order.expires_at <= timezone.now():
        reason = "Not captured: the order expired."
    else:
        reason = ""
    if reason:
        return payment_fail(
            payment=payment,
            notification=Notification(
                event_id=f"return:{payment.reference}",
                event_type="RETURN.NOT_CAPTURED",
                payment_reference=payment.reference,
                provider_reference=payment.provider_reference,
                amount=payment.amount,
                currency=payment.currency,
                status=Notification.FAILED,
                payload={"failure_reason": reason},
            ),
        )
    try:
        notification = capture_order(payment)
    except ProviderUnavailable as exc:
        logger.warning("%s capture of %s not answered yet: %s", payment.provider, payment.reference, exc)
        return payment
    if notification.status == Notification.SUCCEEDED and (
        notification.payment_reference != payment.reference
        or notification.amount != payment.amount
        or notification.currency != payment.currency
    ):
        logger.error(
            "%s capture %s for %s refused: %s %s of %s captured, %s %s expected",
            payment.provider, notification.event_id, payment.reference, notification.amount,
            notification.currency, notification.payment_reference, payment.amount, payment.currency,
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
        return payment
    if notification.status == Notification.SUCCEEDED:
        return payment_capture(payment=payment, notification=notification)
    if notification.status == Notification.FAILED:
        return payment_fail(payment=payment, notification=notification)
    return payment


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
        _capture_post(payment=payment, order=order, accepted=accepted)
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


def _capture_post(*, payment: Payment, order: Order, accepted: bool) -> None:
    """The ledger side of a capture, in the capture's transaction (invariant 15): the split of an
    accepted capture, or the whole amount owed back to the buyer and its refund requested."""
    from payments.services import refunds, split

    capabilities = get_provider_class(payment.provider).capabilities
    fields = {"amount_received": models.F("amount")} if payment.amount_received < payment.amount else {}
    if capabilities.can_split and capabilities.freeze_days:
        fields["freeze_deadline"] = payment.captured_at + timedelta(days=capabilities.freeze_days)
    if fields:
        Payment.objects.filter(pk=payment.pk).update(**fields)
        payment.refresh_from_db(fields=list(fields))
    if accepted:
        order.refresh_from_db(fields=["paid_at"])
        split.capture_post(payment=payment, order=order)
    else:
        split.unaccepted_capture_post(payment=payment)
        refunds.payment_refund_excess(
            payment=payment,
            amount=payment.amount,
            actor=None,
            reason="Captured after the order could no longer take it",
        )


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
