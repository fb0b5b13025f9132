"""The buyer pays on the sandbox's hosted page; the gateway's signed notification pays the order."""

from decimal import Decimal

import pytest
from django.test import Client

from catalog.models import Product
from marketplace.models import AuditEvent, Notification
from orders.models import Order, OrderEvent, VendorOrder
from orders.tests.fulfilment_factories import order_for
from payments.models import Payment, SandboxCharge, WebhookEvent
from payments.providers import sandbox
from payments.tests.helpers import deliver, press, start_payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer_client(buyer):
    client = Client()
    client.force_login(buyer)
    return client


@pytest.fixture
def order(buyer, shop_a, shop_b, owner_a, owner_b):
    return order_for(buyer=buyer, vendors=[shop_a, shop_b], quantity=2, price="50.00")


def test_hosted_page_shows_merchant_and_amount(buyer_client, order):
    payment, charge = start_payment(buyer_client, order)

    page = buyer_client.get(f"/payments/sandbox/{charge.token}/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Shequn" in html
    assert "¥220.00" in html  # (2 × 50 + 10 shipping) per shop, two shops
    assert 'value="pay"' in html and 'value="fail"' in html
    assert payment.amount == order.grand_total == Decimal("220.00")
    assert payment.status == Payment.Status.PENDING


def test_pay_button_then_signed_notification_pays_the_order(buyer_client, buyer, order, owner_a, owner_b):
    payment, charge = start_payment(buyer_client, order)
    product_ids = list(order.vendor_orders.values_list("lines__product_id_snapshot", flat=True))

    response = press(buyer_client, charge, "pay")

    assert response.status_code == 302
    assert response["Location"].endswith(f"/payments/return/{payment.reference}/")
    assert charge.status == SandboxCharge.Status.SUCCEEDED
    # Until the gateway's server-to-server notification arrives, the buyer waits.
    waiting = buyer_client.get(f"/payments/return/{payment.reference}/")
    assert "Waiting for confirmation" in waiting.content.decode()
    assert '<meta http-equiv="refresh"' in waiting.content.decode()

    answer = deliver(Client(), sandbox.notification_body(charge))

    assert answer.status_code == 200, answer.content
    assert answer.json() == {"status": "captured"}
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED and not payment.needs_refund
    assert payment.provider_reference == charge.provider_reference
    assert order.status == Order.Status.PAID and order.paid_at is not None
    assert set(order.vendor_orders.values_list("status", flat=True)) == {VendorOrder.Status.PAID}
    assert [p.sold_count for p in Product.objects.filter(pk__in=product_ids)] == [2, 2]
    assert OrderEvent.objects.filter(order=order, type="paid", data__payment_reference=payment.reference).count() == 1
    assert AuditEvent.objects.filter(action="payment.captured", object_id=str(payment.pk)).count() == 1
    assert WebhookEvent.objects.get(event_id=f"evt_{charge.pk}_succeeded").outcome == "captured"
    # Buyer and both shops are told.
    assert Notification.objects.filter(user=buyer, kind="order.paid").count() == 1
    assert Notification.objects.filter(user=owner_a, kind="vendor_order.paid").count() == 1
    assert Notification.objects.filter(user=owner_b, kind="vendor_order.paid").count() == 1

    done = buyer_client.get(f"/payments/return/{payment.reference}/")
    assert "Payment received" in done.content.decode()
    assert f"/orders/{order.number}/" in done.content.decode()


def test_fail_button_fails_the_payment_and_the_buyer_can_try_again(buyer_client, order):
    payment, charge = start_payment(buyer_client, order)

    press(buyer_client, charge, "fail")
    answer = deliver(Client(), sandbox.notification_body(charge))

    assert answer.status_code == 200
    assert answer.json() == {"status": "failed"}
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.FAILED and payment.failed_at is not None
    assert order.status == Order.Status.PENDING_PAYMENT
    assert set(order.vendor_orders.values_list("status", flat=True)) == {VendorOrder.Status.PENDING_PAYMENT}
    page = buyer_client.get(f"/payments/return/{payment.reference}/").content.decode()
    assert "Payment failed" in page and 'data-testid="pay-again"' in page

    second, second_charge = start_payment(buyer_client, order)
    press(buyer_client, second_charge, "pay")
    deliver(Client(), sandbox.notification_body(second_charge))

    second.refresh_from_db()
    order.refresh_from_db()
    assert second.status == Payment.Status.CAPTURED
    assert order.status == Order.Status.PAID


def test_pressing_pay_twice_counts_once(buyer_client, order, django_capture_on_commit_callbacks):
    payment, charge = start_payment(buyer_client, order)

    with django_capture_on_commit_callbacks() as callbacks:
        press(buyer_client, charge, "pay")
        again = press(buyer_client, charge, "fail")

    assert again.status_code == 302
    assert charge.status == SandboxCharge.Status.SUCCEEDED
    assert len(callbacks) == 1  # one notification scheduled, after commit
    assert "already closed" in buyer_client.get(f"/payments/sandbox/{charge.token}/").content.decode()


def test_unknown_gateway_action_is_refused(buyer_client, order):
    _payment, charge = start_payment(buyer_client, order)

    response = buyer_client.post(f"/payments/sandbox/{charge.token}/", {"action": "steal"})

    assert response.status_code == 400
    charge.refresh_from_db()
    assert charge.status == SandboxCharge.Status.OPEN


@pytest.mark.django_db(transaction=True)
def test_gateway_delivers_the_notification_over_http(live_server, settings, buyer, shop_a, owner_a):
    """The real path: after commit, the gateway's task POSTs the signed notification over HTTP to
    the running server, which verifies it and pays the order."""
    settings.SITE_URL = live_server.url
    order = order_for(buyer=buyer, vendors=[shop_a], quantity=1, price="120.00")
    client = Client()
    client.force_login(buyer)
    payment, charge = start_payment(client, order)
    assert charge.notify_url == f"{live_server.url}/payments/webhooks/sandbox/"

    response = press(client, charge, "pay")

    assert response.status_code == 302
    charge.refresh_from_db()
    payment.refresh_from_db()
    order.refresh_from_db()
    assert charge.notified_at is not None and charge.notify_attempts == 1 and charge.last_notify_error == ""
    assert payment.status == Payment.Status.CAPTURED
    assert order.status == Order.Status.PAID
    assert "Payment received" in client.get(response["Location"]).content.decode()


@pytest.mark.django_db(transaction=True)
def test_unreachable_merchant_is_recorded_and_the_buyer_keeps_waiting(settings, buyer, shop_a):
    settings.SITE_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    order = order_for(buyer=buyer, vendors=[shop_a])
    client = Client()
    client.force_login(buyer)
    payment, charge = start_payment(client, order)

    response = press(client, charge, "pay")

    assert response.status_code == 302
    charge.refresh_from_db()
    payment.refresh_from_db()
    assert charge.notified_at is None and charge.notify_attempts == 1 and charge.last_notify_error
    assert payment.status == Payment.Status.PENDING
