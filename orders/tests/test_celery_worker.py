"""With a real Celery worker consuming from Redis (not inline tasks): the beat job that
expires unpaid orders returns their stock exactly once even when it is delivered twice, and
the e-mail copy of a notification is sent by the worker, once."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.utils import timezone

from catalog.models import ProductVariant
from catalog.tests.factories import make_product
from marketplace.celery import app as celery_app
from marketplace.models import Notification
from orders.models import Order
from orders.services.cart import cart_add_line, cart_get_or_create
from orders.services.checkout import order_place
from orders.tasks import orders_sweep
from orders.tests.factories import AddressFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(settings):
    assert settings.REDIS_URL, "the worker tests need REDIS_URL (make test sets it)"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Celery reads the Django settings live, so the line above turns inline tasks off here.
    assert celery_app.conf.task_always_eager is False
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        yield


def wait_for(condition, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_the_worker_expires_unpaid_orders_once_even_if_the_job_runs_twice(worker, buyer, shop_a, mailoutbox):
    product = make_product(vendor=shop_a, title="Pu'er cake", variants=[{"sku": "PU-1", "price": "120.00", "stock": 5}])
    variant = ProductVariant.objects.get(product=product)
    cart = cart_get_or_create(user=buyer, session_key=None)
    cart_add_line(cart=cart, variant_id=variant.pk, quantity=2)
    order = order_place(buyer=buyer, cart=cart, address=AddressFactory(user=buyer))
    assert ProductVariant.objects.get(pk=variant.pk).stock == 3
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timezone.timedelta(minutes=1))

    first, second = orders_sweep.delay(), orders_sweep.delay()  # at-least-once: delivered twice
    assert wait_for(lambda: Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED)
    assert first.id != second.id
    time.sleep(1.0)  # let the second delivery run too
    assert ProductVariant.objects.get(pk=variant.pk).stock == 5  # returned once, not twice
    # The buyer was told, in the app and by an e-mail the worker sent.
    assert Notification.objects.filter(user=buyer).exists()
    assert wait_for(lambda: any(buyer.email in message.to for message in mail.outbox))
    emailed = [message for message in mail.outbox if buyer.email in message.to]
    assert len(emailed) == Notification.objects.filter(user=buyer).count()
