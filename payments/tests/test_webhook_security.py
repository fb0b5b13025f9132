"""Only genuine, fresh, matching notifications change anything, and each counts once."""

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import Product
from marketplace.models import AuditEvent
from orders.models import Order, OrderEvent
from orders.services.checkout import order_expire
from orders.tests.fulfilment_factories import order_for
from payments.models import Payment, WebhookEvent
from payments.providers import sandbox
from payments.tests.helpers import WEBHOOK_URL, body_for, deliver, press, start_payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer_client(buyer):
    client = Client()
    client.force_login(buyer)
    return client


@pytest.fixture
def paid_charge(buyer_client, buyer, shop_a):
    """The buyer pressed Pay; the notification has not arrived yet."""
    order = order_for(buyer=buyer, vendors=[shop_a], quantity=3)
    payment, charge = start_payment(buyer_client, order)
    press(buyer_client, charge, "pay")
    return payment, charge


def assert_nothing_changed(payment: Payment) -> None:
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert payment.order.status == Order.Status.PENDING_PAYMENT
    assert not WebhookEvent.objects.exists()
    assert not OrderEvent.objects.filter(type="paid").exists()


def test_forged_signature_is_refused_and_nothing_stored(paid_charge):
    payment, charge = paid_charge
    body = sandbox.notification_body(charge)

    response = deliver(Client(), body, signature="0" * 64)

    assert response.status_code == 400
    assert response.json() == {"message": "Invalid signature.", "code": "payment_error"}
    assert_nothing_changed(payment)


def test_signature_made_with_another_secret_is_refused(paid_charge, settings):
    payment, charge = paid_charge
    body = sandbox.notification_body(charge)
    timestamp = int(time.time())
    real_secret = settings.SANDBOX_PAYMENT_SECRET
    settings.SANDBOX_PAYMENT_SECRET = "an-attackers-guess"
    forged = sandbox.sign(body, timestamp)
    settings.SANDBOX_PAYMENT_SECRET = real_secret

    response = deliver(Client(), body, timestamp=timestamp, signature=forged)

    assert response.status_code == 400
    assert_nothing_changed(payment)


def test_missing_signature_headers_are_refused(paid_charge):
    payment, charge = paid_charge

    response = Client().post(WEBHOOK_URL, data=sandbox.notification_body(charge), content_type="application/json")

    assert response.status_code == 400
    assert response.json()["message"] == "Missing signature headers."
    assert_nothing_changed(payment)


def test_stale_timestamp_is_refused_even_with_a_valid_signature(paid_charge, settings):
    payment, charge = paid_charge
    stale = int(time.time()) - settings.PAYMENT_WEBHOOK_TOLERANCE_SECONDS - 5

    response = deliver(Client(), sandbox.notification_body(charge), timestamp=stale)

    assert response.status_code == 400
    assert "tolerance" in response.json()["message"]
    assert_nothing_changed(payment)


def test_tampered_body_is_refused(paid_charge):
    payment, charge = paid_charge
    body = sandbox.notification_body(charge)
    timestamp = int(time.time())
    signature = sandbox.sign(body, timestamp)
    tampered = body.replace(b'"payment.succeeded"', b'"payment.succeeded" ')

    response = deliver(Client(), tampered, timestamp=timestamp, signature=signature)

    assert response.status_code == 400
    assert_nothing_changed(payment)


def test_malformed_body_with_valid_signature_is_a_clear_400(paid_charge):
    payment, _charge = paid_charge

    response = deliver(Client(), b'{"id": "evt_x", "type": "payment.succeeded"')

    assert response.status_code == 400
    assert response.json()["message"] == "Malformed notification body."
    assert_nothing_changed(payment)


def test_replayed_notification_captures_exactly_once(paid_charge):
    payment, charge = paid_charge
    body = sandbox.notification_body(charge)
    product = Product.objects.get(pk=payment.order.vendor_orders.get().lines.get().product_id_snapshot)

    answers = [deliver(Client(), body) for _ in range(10)]

    assert [a.status_code for a in answers] == [200] * 10
    assert answers[0].json() == {"status": "captured"}
    assert {a.json()["status"] for a in answers[1:]} == {"duplicate"}
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED
    assert WebhookEvent.objects.count() == 1
    assert AuditEvent.objects.filter(action="payment.captured").count() == 1
    assert AuditEvent.objects.filter(action="order.paid").count() == 1
    assert OrderEvent.objects.filter(type="paid").count() == 1
    product.refresh_from_db()
    assert product.sold_count == 3


def test_wrong_amount_is_refused_logged_and_not_captured(paid_charge, caplog):
    payment, charge = paid_charge

    response = deliver(Client(), body_for(charge, amount="0.01"))

    assert response.status_code == 400
    assert response.json()["message"] == "Amount or currency does not match the payment."
    assert_nothing_changed(payment)
    refused = AuditEvent.objects.get(action="payment.notification_refused")
    assert refused.data["notified"] == "0.01 CNY" and refused.object_id == str(payment.pk)
    assert "refused" in caplog.text


def test_wrong_currency_is_refused(paid_charge):
    payment, charge = paid_charge

    response = deliver(Client(), body_for(charge, currency="USD"))

    assert response.status_code == 400
    assert_nothing_changed(payment)


def test_unknown_payment_reference_is_refused(paid_charge):
    payment, charge = paid_charge

    response = deliver(Client(), body_for(charge, reference="PAY-NOT-OURS"))

    assert response.status_code == 404
    assert response.json()["message"] == "Unknown payment reference."
    assert_nothing_changed(payment)


def test_unknown_provider_and_get_are_refused():
    assert Client().post("/payments/webhooks/paypal/", data=b"{}", content_type="application/json").status_code == 404
    assert Client().get(WEBHOOK_URL).status_code == 405


def test_unknown_event_type_is_stored_and_ignored(paid_charge):
    payment, charge = paid_charge

    response = deliver(Client(), body_for(charge, id="evt_other_1", type="charge.dispute.created"))

    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    assert WebhookEvent.objects.get().outcome == "ignored"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def test_late_success_after_expiry_is_kept_for_refund_and_order_not_revived(paid_charge, admin_user):
    payment, charge = paid_charge
    order = payment.order
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    order.refresh_from_db()
    assert order_expire(order=order)

    response = deliver(Client(), sandbox.notification_body(charge))

    assert response.status_code == 200
    assert response.json() == {"status": "captured_needs_refund"}
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED and payment.needs_refund
    assert order.status == Order.Status.CANCELLED
    assert set(order.vendor_orders.values_list("status", flat=True)) == {"cancelled"}
    assert AuditEvent.objects.get(action="payment.needs_refund").data["reason"] == "order cancelled"
    # The admin sees it in the refund queue.
    admin = Client()
    admin.force_login(admin_user)
    listing = admin.get("/admin/payments/payment/?needs_refund__exact=1")
    assert listing.status_code == 200 and payment.reference in listing.content.decode()
    # And the buyer is told the money comes back.
    buyer_page = Client()
    buyer_page.force_login(order.buyer)
    assert "will be refunded" in buyer_page.get(f"/payments/return/{payment.reference}/").content.decode()


def test_second_payment_of_a_paid_order_is_kept_for_refund(buyer_client, buyer, shop_a):
    order = order_for(buyer=buyer, vendors=[shop_a])
    first, first_charge = start_payment(buyer_client, order)
    second, second_charge = start_payment(buyer_client, order)  # e.g. two browser tabs
    press(buyer_client, first_charge, "pay")
    press(buyer_client, second_charge, "pay")

    assert deliver(Client(), sandbox.notification_body(first_charge)).json() == {"status": "captured"}
    assert deliver(Client(), sandbox.notification_body(second_charge)).json() == {"status": "captured_needs_refund"}

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.needs_refund) == (Payment.Status.CAPTURED, False)
    assert (second.status, second.needs_refund) == (Payment.Status.CAPTURED, True)
    assert OrderEvent.objects.filter(order=order, type="paid").count() == 1


def test_failure_reported_after_capture_changes_nothing(paid_charge):
    payment, charge = paid_charge
    deliver(Client(), sandbox.notification_body(charge))

    response = deliver(Client(), body_for(charge, id=f"evt_{charge.pk}_failed", type="payment.failed"))

    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED


def test_notification_headers_and_body_follow_the_documented_format(paid_charge, settings):
    _payment, charge = paid_charge
    body = sandbox.notification_body(charge)
    headers = sandbox.signed_headers(body, timestamp=1_700_000_000)

    payload = json.loads(body)

    assert set(payload) == {"id", "type", "reference", "charge", "amount", "currency", "created"}
    assert payload["type"] == "payment.succeeded" and payload["amount"] == "160.00"
    expected = hmac.new(settings.SANDBOX_PAYMENT_SECRET.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert headers["X-Sandbox-Signature"] == expected
