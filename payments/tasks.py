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


@shared_task(acks_late=True)
def frozen_money_watch() -> dict:
    """Beat job (daily): split what a provider holds frozen before its own deadline."""
    from payments.services.settlement import frozen_money_watch as watch

    return watch()


@shared_task(bind=True, acks_late=True, max_retries=6)
def reconciliation_daily(self) -> int:
    """Beat job: reconciles yesterday for every enabled provider (idempotent per provider and
    day); a provider that cannot be reached is tried again later, the others are kept."""
    from datetime import timedelta

    from django.utils import timezone

    from payments.services.reconciliation import reconcile_enabled_providers

    result = reconcile_enabled_providers(day=timezone.localdate() - timedelta(days=1))
    if result.unavailable and not self.request.is_eager:
        raise self.retry(countdown=min(60 * 2**self.request.retries, MAX_BACKOFF_SECONDS))
    return sum(run.mismatch_count for run in result.runs)
