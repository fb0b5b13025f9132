"""Admins read payments, webhook events and sandbox charges; nobody edits money by hand."""

import pytest
from django.core import checks
from django.test import Client

from orders.tests.fulfilment_factories import order_for
from payments.apps import check_payment_settings
from payments.providers import sandbox
from payments.tests.helpers import deliver, press, start_payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def captured(buyer, shop_a):
    client = Client()
    client.force_login(buyer)
    payment, charge = start_payment(client, order_for(buyer=buyer, vendors=[shop_a]))
    press(client, charge, "pay")
    deliver(Client(), sandbox.notification_body(charge))
    return payment, charge


def test_admin_lists_filters_and_searches_payments(admin_user, captured):
    payment, charge = captured
    admin = Client()
    admin.force_login(admin_user)

    for url in (
        "/admin/payments/payment/?status__exact=captured&provider=sandbox",
        f"/admin/payments/payment/?q={payment.order.number}",
        f"/admin/payments/payment/{payment.pk}/change/",
        "/admin/payments/webhookevent/",
        "/admin/payments/sandboxcharge/",
    ):
        response = admin.get(url)
        assert response.status_code == 200, url
    assert payment.reference in admin.get(f"/admin/payments/payment/?q={payment.order.number}").content.decode()
    assert "split-payments" in admin.get(f"/admin/payments/payment/{payment.pk}/change/").content.decode()
    assert admin.get("/admin/payments/payment/add/").status_code == 403
    assert charge.token not in admin.get(f"/admin/payments/sandboxcharge/{charge.pk}/change/").content.decode()


def test_unknown_provider_setting_is_refused_at_start_up(settings):
    settings.PAYMENT_PROVIDERS = ["sandbox", "alipay"]

    errors = [message for message in check_payment_settings(None) if message.level >= checks.ERROR]

    assert [error.id for error in errors] == ["payments.E002"]
    assert "alipay" in errors[0].msg
