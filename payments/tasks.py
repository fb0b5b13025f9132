"""Thin Celery tasks. Each is idempotent: it re-reads state and gates on it."""

import logging

from celery import shared_task

from payments.providers import sandbox

logger = logging.getLogger(__name__)

MAX_DELIVERY_RETRIES = 8
MAX_BACKOFF_SECONDS = 600  # stays far below the broker's visibility timeout


@shared_task(bind=True, max_retries=MAX_DELIVERY_RETRIES, acks_late=True)
def sandbox_notification_send(self, charge_id: int) -> bool:
    """The sandbox gateway's webhook delivery, retried with exponential backoff."""
    try:
        return sandbox.sandbox_notification_deliver(charge_id=charge_id)
    except sandbox.NotificationDeliveryError as exc:
        if self.request.is_eager:
            # Inline mode (make run, tests): no worker to retry later; the buyer's return page
            # keeps waiting and the charge records the error for the admin.
            logger.warning("sandbox notification for charge %s not delivered: %s", charge_id, exc)
            return False
        raise self.retry(exc=exc, countdown=min(5 * 2**self.request.retries, MAX_BACKOFF_SECONDS)) from exc


@shared_task(acks_late=True)
def provider_call_send(call_id: int) -> str:
    """Sends one outgoing provider call; a retryable failure leaves it for the sweep's backoff."""
    from payments.services.calls import call_send

    return call_send(call_id=call_id).status


@shared_task(acks_late=True)
def provider_calls_sweep() -> int:
    """Beat job: every due call (new, or whose backoff has passed)."""
    from payments.services.calls import calls_send_due

    return calls_send_due()


@shared_task(acks_late=True)
def settlement_run() -> int:
    """Beat job: settles every shop order whose return window has passed."""
    from payments.services.settlement import settle_due

    return settle_due().settled


@shared_task(acks_late=True)
def bank_transfers_expire() -> int:
    """Beat job: bank transfer instructions past their deadline expire; part-payments go back."""
    from django.utils import timezone

    from payments.services.bank_transfer import bank_transfers_expire as expire

    return expire(now=timezone.now())
