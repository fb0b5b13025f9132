"""Who may start paying which order, on the page and through the API."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from orders.models import Order
from orders.tests.fulfilment_factories import order_for
from payments.models import Payment, SandboxCharge
from payments.tests.helpers import start_payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(buyer, shop_a):
    return order_for(buyer=buyer, vendors=[shop_a])


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pay_page_shows_the_total_and_a_pay_button(buyer, order):
    page = logged_in(buyer).get(f"/payments/start/{order.number}/")

    assert page.status_code == 200
    assert "¥110.00" in page.content.decode()
    assert 'data-testid="pay-now"' in page.content.decode()


def test_start_creates_a_payment_for_the_grand_total(buyer, order):
    payment, charge = start_payment(logged_in(buyer), order)

    assert payment.order == order and payment.provider == "sandbox"
    assert payment.amount == order.grand_total and payment.currency == "CNY"
    assert payment.status == Payment.Status.PENDING
    assert (charge.amount, charge.currency, charge.status) == (order.grand_total, "CNY", SandboxCharge.Status.OPEN)
    assert charge.return_url == f"http://testserver/payments/return/{payment.reference}/"
    assert charge.notify_url.endswith("/payments/webhooks/sandbox/")


def test_another_buyer_cannot_pay_or_see_my_order(other_buyer, order):
    client = logged_in(other_buyer)

    assert client.get(f"/payments/start/{order.number}/").status_code == 404
    assert client.post(f"/payments/start/{order.number}/").status_code == 404
    assert not Payment.objects.exists()


def test_anonymous_visitor_is_sent_to_log_in(order):
    response = Client().post(f"/payments/start/{order.number}/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Payment.objects.exists()


def test_expired_order_cannot_be_paid(buyer, order):
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    client = logged_in(buyer)

    response = client.post(f"/payments/start/{order.number}/", follow=True)

    assert "expired" in response.content.decode()
    assert 'data-testid="pay-now"' not in response.content.decode()
    assert not Payment.objects.exists()


def test_paid_order_cannot_be_paid_again(buyer, order):
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID)

    response = logged_in(buyer).post(f"/payments/start/{order.number}/", follow=True)

    assert "already paid" in response.content.decode()
    assert not Payment.objects.exists()


def test_return_page_of_someone_elses_payment_is_not_found(buyer, other_buyer, order):
    payment, _charge = start_payment(logged_in(buyer), order)

    assert logged_in(other_buyer).get(f"/payments/return/{payment.reference}/").status_code == 404


def test_api_starts_a_payment_and_reads_it(buyer, order):
    api = APIClient()
    api.force_authenticate(buyer)

    started = api.post("/api/v1/payments/", {"order_number": order.number}, format="json")

    assert started.status_code == 201, started.content
    assert started.json()["amount"] == "110.00" and started.json()["status"] == "pending"
    assert started.json()["redirect_url"].startswith("http://testserver/payments/sandbox/")
    detail = api.get(f"/api/v1/payments/{started.json()['reference']}/")
    assert detail.status_code == 200 and detail.json()["order_number"] == order.number


def test_api_refuses_other_buyers_orders_and_expired_orders(buyer, other_buyer, order):
    api = APIClient()
    api.force_authenticate(other_buyer)
    assert api.post("/api/v1/payments/", {"order_number": order.number}, format="json").status_code == 404

    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    api.force_authenticate(buyer)
    expired = api.post("/api/v1/payments/", {"order_number": order.number}, format="json")
    assert expired.status_code == 400 and "expired" in expired.json()["message"]
    assert (
        api.post("/api/v1/payments/", {"order_number": order.number, "provider": "nope"}, format="json").status_code
        == 404
    )
    assert not Payment.objects.exists()
