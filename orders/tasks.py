"""Periodic order jobs (Celery beat, see CELERY_BEAT_SCHEDULE; `manage.py run_periodic_jobs`
runs the same on demand). Thin and idempotent: every service they call gates on status."""

from celery import shared_task
from django.utils import timezone

from orders.services.cart import carts_purge_stale
from orders.services.checkout import orders_expire_due
from orders.services.fulfilment import vendor_orders_auto_advance


@shared_task
def orders_sweep() -> dict:
    """Expires unpaid orders past their deadline (stock goes back on sale), advances shipped
    shop orders whose delivery or completion time has come, and drops stale visitor carts."""
    now = timezone.now()
    return {
        "expired": orders_expire_due(now=now),
        "advanced": vendor_orders_auto_advance(now=now),
        "stale_carts_deleted": carts_purge_stale(now=now),
    }
