"""Deliveries arriving at the same moment (a gateway retrying while the first is still being
processed, two web workers) still capture once."""

import threading

import pytest
from django.db import connections
from django.test import Client

from marketplace.models import AuditEvent
from orders.models import OrderEvent
from orders.tests.fulfilment_factories import order_for
from payments.models import Payment, WebhookEvent
from payments.providers import sandbox
from payments.tests.helpers import deliver, press, start_payment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(autouse=True)
def _gateway_cannot_reach_us(settings):
    """The gateway's own delivery (after Pay) goes nowhere; the test delivers instead."""
    settings.SITE_URL = "http://127.0.0.1:9"


def deliver_all_at_once(bodies: list[bytes]) -> list[int]:
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = []

    def post(body: bytes) -> None:
        try:
            barrier.wait()
            statuses.append(deliver(Client(), body).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_ten_simultaneous_copies_of_one_event_capture_once(buyer, shop_a):
    client = Client()
    client.force_login(buyer)
    payment, charge = start_payment(client, order_for(buyer=buyer, vendors=[shop_a]))
    press(client, charge, "pay")

    statuses = deliver_all_at_once([sandbox.notification_body(charge)] * 10)

    assert statuses == [200] * 10
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED
    assert WebhookEvent.objects.count() == 1
    assert AuditEvent.objects.filter(action="payment.captured").count() == 1
    assert OrderEvent.objects.filter(type="paid").count() == 1


def test_two_payments_of_one_order_captured_at_once_pay_it_once(buyer, shop_a):
    client = Client()
    client.force_login(buyer)
    order = order_for(buyer=buyer, vendors=[shop_a])
    charges = []
    for _ in range(2):
        _payment, charge = start_payment(client, order)
        press(client, charge, "pay")
        charges.append(charge)

    statuses = deliver_all_at_once([sandbox.notification_body(charge) for charge in charges])

    assert statuses == [200, 200]
    payments = Payment.objects.filter(order=order)
    assert sorted(p.needs_refund for p in payments) == [False, True]
    assert {p.status for p in payments} == {Payment.Status.CAPTURED}
    assert OrderEvent.objects.filter(order=order, type="paid").count() == 1
