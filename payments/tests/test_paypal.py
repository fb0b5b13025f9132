"""PayPal Checkout end to end: our pages and webhook, PayPal's SDK over real HTTP, a local fake
PayPal (payments/tests/fake_paypal.py) with state, planned failures and signed webhooks."""

import secrets
import time
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core import checks
from django.test import Client
from django.utils import timezone

from marketplace.models import AuditEvent
from orders.models import Order, OrderEvent
from orders.services.checkout import order_expire
from orders.tests.fulfilment_factories import order_for
from payments.apps import check_paypal_settings
from payments.models import Payment, ProviderCall, Refund, WebhookEvent
from payments.providers import get_provider, get_provider_class
from payments.providers.base import CallResult, ProviderUnavailable
from payments.tests.fake_paypal import FakePayPal

pytestmark = pytest.mark.django_db

WEBHOOK_URL = "/payments/webhooks/paypal/"


@pytest.fixture
def paypal(settings):
    """A fresh fake PayPal, and the settings pointing at it (a new client id: a fresh token cache)."""
    fake = FakePayPal(
        client_id=f"client-{secrets.token_hex(6)}", client_secret="s3cr3t", webhook_id="8PT597110X687430LKGECATA"
    ).start()
    settings.PAYMENT_PROVIDERS = ["sandbox", "paypal"]
    settings.PAYPAL_BASE_URL = fake.base_url
    settings.PAYPAL_CLIENT_ID = fake.client_id
    settings.PAYPAL_CLIENT_SECRET = fake.client_secret
    settings.PAYPAL_WEBHOOK_ID = fake.webhook_id
    settings.PAYPAL_TIMEOUT_SECONDS = 1
    yield fake
    fake.stop()


@pytest.fixture
def buyer_client(buyer):
    client = Client()
    client.force_login(buyer)
    return client


@pytest.fixture
def order(buyer, shop_a, owner_a):
    return order_for(buyer=buyer, vendors=[shop_a], quantity=2, price="50.00")  # 100 + 10 shipping


def start(client: Client, order: Order) -> tuple[Payment, str]:
    """The buyer chooses PayPal and presses "Pay now": they are sent to PayPal's approval page."""
    response = client.post(f"/payments/start/{order.number}/", {"provider": "paypal"})
    assert response.status_code == 302, response.content[:300]
    paypal_order_id = parse_qs(urlsplit(response["Location"]).query)["token"][0]
    return Payment.objects.get(order=order, provider_reference=paypal_order_id), response["Location"]


def approve_and_return(client: Client, paypal: FakePayPal, payment: Payment):
    """The buyer approves at PayPal and PayPal sends them back to our return page."""
    return client.get(paypal.approve(payment.provider_reference))


def paid_with_paypal(client: Client, paypal: FakePayPal, order: Order) -> Payment:
    payment, _url = start(client, order)
    page = approve_and_return(client, paypal, payment)
    assert "Payment received" in page.content.decode()
    payment.refresh_from_db()
    return payment


def deliver(client: Client, body: bytes, headers: dict[str, str]):
    return client.post(WEBHOOK_URL, data=body, content_type="application/json", headers=headers)


# --- Paying ------------------------------------------------------------------------------------


def test_pay_now_creates_a_paypal_order_for_the_total_and_sends_the_buyer_to_approve_it(buyer_client, paypal, order):
    payment, redirect = start(buyer_client, order)

    paypal_order = paypal.orders[payment.provider_reference]
    assert redirect == f"{paypal.base_url}/checkoutnow?token={paypal_order['id']}"
    assert paypal_order["intent"] == "CAPTURE"
    unit = paypal_order["purchase_units"][0]
    assert unit["amount"] == {"currency_code": "CNY", "value": "110.00"} and order.grand_total == Decimal("110.00")
    assert unit["custom_id"] == unit["invoice_id"] == payment.reference
    return_url = f"http://testserver/payments/return/{payment.reference}/"
    assert paypal_order["_experience"]["return_url"] == return_url
    assert paypal_order["_experience"]["cancel_url"] == return_url + "?cancelled=1"
    create = next(headers for method, path, headers in paypal.requests if path == "/v2/checkout/orders")
    assert create["paypal-request-id"] == f"create-{payment.reference}"
    assert payment.status == Payment.Status.PENDING and order.status == Order.Status.PENDING_PAYMENT


def test_buyer_approves_at_paypal_and_on_return_the_capture_pays_the_order(buyer_client, paypal, order):
    payment, _url = start(buyer_client, order)

    page = approve_and_return(buyer_client, paypal, payment)

    assert page.status_code == 200
    assert "Payment received" in page.content.decode()
    [capture] = paypal.captures.values()
    assert capture["status"] == "COMPLETED" and capture["amount"]["value"] == "110.00"
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED and not payment.needs_refund
    assert payment.provider_reference == capture["id"]  # refunds go to the capture
    assert order.status == Order.Status.PAID
    assert AuditEvent.objects.get(action="payment.captured").data["event_id"] == f"capture:{capture['id']}"
    # Reloading the page changes nothing and calls PayPal no more.
    assert "Payment received" in buyer_client.get(f"/payments/return/{payment.reference}/").content.decode()
    assert paypal.count("POST", "/capture") == 1


def test_the_approval_page_redirects_back_to_our_return_page(buyer_client, paypal, order):
    payment, redirect = start(buyer_client, order)

    answer = requests.get(redirect, allow_redirects=False, timeout=5)

    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    assert back.path.startswith("/payments/return/PAY-")
    assert parse_qs(back.query)["token"] == [payment.provider_reference]
    assert "Payment received" in buyer_client.get(answer.headers["Location"]).content.decode()


def test_capture_webhook_after_the_return_changes_nothing_even_ten_times(buyer_client, paypal, order):
    payment = paid_with_paypal(buyer_client, paypal, order)
    capture = paypal.captures[payment.provider_reference]
    body, headers = paypal.webhook("PAYMENT.CAPTURE.COMPLETED", capture)

    answers = [deliver(Client(), body, headers) for _ in range(10)]

    assert answers[0].json() == {"status": "captured"}  # stored; payment_capture found it captured already
    assert [answer.json() for answer in answers[1:]] == [{"status": "duplicate"}] * 9
    assert WebhookEvent.objects.filter(provider="paypal").count() == 1
    assert AuditEvent.objects.filter(action="payment.captured", object_id=str(payment.pk)).count() == 1
    assert OrderEvent.objects.filter(order=order, type="paid").count() == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED and not payment.needs_refund


def test_capture_webhook_alone_pays_the_order_when_the_buyer_never_came_back(buyer_client, paypal, order):
    """The return captured at PayPal but its answer was lost for good: the webhook pays the order."""
    payment, _url = start(buyer_client, order)
    paypal.stall_next("/capture", seconds=1.5, times=1)
    paypal.fail_next("/capture", status=503, times=5)
    waiting = approve_and_return(buyer_client, paypal, payment)
    assert "Waiting for confirmation" in waiting.content.decode()
    [capture] = paypal.captures.values()

    answer = deliver(Client(), *paypal.webhook("PAYMENT.CAPTURE.COMPLETED", capture))

    assert answer.json() == {"status": "captured"}
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED and payment.provider_reference == capture["id"]
    assert order.status == Order.Status.PAID


# --- Failures and retries ----------------------------------------------------------------------


def test_declined_capture_leaves_the_order_awaiting_payment_and_the_buyer_can_retry(buyer_client, paypal, order):
    paypal.capture_outcome = "DECLINED"
    payment, _url = start(buyer_client, order)

    page = approve_and_return(buyer_client, paypal, payment).content.decode()

    assert "Payment failed" in page and 'data-testid="pay-again"' in page
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.FAILED and payment.failed_at is not None
    assert order.status == Order.Status.PENDING_PAYMENT

    paypal.capture_outcome = "COMPLETED"
    again, _url = start(buyer_client, order)
    assert "Payment received" in approve_and_return(buyer_client, paypal, again).content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert [c["status"] for c in paypal.captures.values()] == ["DECLINED", "COMPLETED"]


def test_declined_instrument_fails_the_payment_without_any_capture(buyer_client, paypal, order):
    paypal.capture_outcome = "INSTRUMENT_DECLINED"
    payment, _url = start(buyer_client, order)

    page = approve_and_return(buyer_client, paypal, payment).content.decode()

    assert "Payment failed" in page
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED and payment.failure_reason == "PayPal: INSTRUMENT_DECLINED"
    assert not paypal.captures


def test_buyer_cancelling_at_paypal_is_never_charged_and_can_pay_again(buyer_client, paypal, order):
    payment, _url = start(buyer_client, order)

    page = buyer_client.get(paypal.cancel(payment.provider_reference)).content.decode()

    assert "Payment failed" in page and 'data-testid="pay-again"' in page
    assert paypal.count("POST", "/capture") == 0
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED and "Cancelled" in payment.failure_reason


def test_returning_after_the_order_expired_captures_nothing(buyer_client, paypal, order):
    payment, _url = start(buyer_client, order)
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    page = approve_and_return(buyer_client, paypal, payment).content.decode()

    assert "Payment failed" in page and "can no longer be paid" in page
    assert paypal.count("POST", "/capture") == 0 and not paypal.captures
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED and payment.failure_reason == "Not captured: the order expired."


def test_paypal_error_on_capture_is_retried_with_the_same_request_id(buyer_client, paypal, order):
    payment, _url = start(buyer_client, order)
    paypal.fail_next("/capture", status=503, times=1)

    page = approve_and_return(buyer_client, paypal, payment)

    assert "Payment received" in page.content.decode()
    request_ids = [h["paypal-request-id"] for m, path, h in paypal.requests if path.endswith("/capture")]
    assert request_ids == [f"capture-{payment.reference}"] * 2
    assert len(paypal.captures) == 1


def test_lost_capture_answer_is_retried_without_capturing_twice(buyer_client, paypal, order):
    payment, _url = start(buyer_client, order)
    paypal.stall_next("/capture", seconds=1.5)  # PayPal captures, but answers after our 1 s timeout

    page = approve_and_return(buyer_client, paypal, payment)

    assert "Payment received" in page.content.decode()
    assert paypal.count("POST", "/capture") == 2  # the retry got the first capture back
    [capture] = paypal.captures.values()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED and payment.provider_reference == capture["id"]


def test_paypal_down_keeps_the_buyer_waiting_and_a_later_refresh_captures(buyer_client, paypal, order):
    payment, _url = start(buyer_client, order)
    paypal.fail_next("/capture", status=500, times=3)  # the first try and both retries

    waiting = approve_and_return(buyer_client, paypal, payment).content.decode()

    assert "Waiting for confirmation" in waiting and '<meta http-equiv="refresh"' in waiting
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING and not paypal.captures

    refreshed = buyer_client.get(f"/payments/return/{payment.reference}/").content.decode()

    assert "Payment received" in refreshed
    assert len(paypal.captures) == 1


def test_pending_capture_completed_after_the_order_expired_is_kept_for_refund(
    buyer_client, paypal, order, django_capture_on_commit_callbacks
):
    """A late capture: PayPal held the capture for review, the order expired meanwhile, then the
    capture completed. The buyer did pay: the payment is captured, flagged needs_refund, and the
    refund goes out through PayPal."""
    paypal.capture_outcome = "PENDING"
    payment, _url = start(buyer_client, order)
    assert "Waiting for confirmation" in approve_and_return(buyer_client, paypal, payment).content.decode()
    [capture] = paypal.captures.values()
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    order.refresh_from_db()
    assert order_expire(order=order)
    paypal.complete_capture(capture["id"])

    with django_capture_on_commit_callbacks(execute=True):
        answer = deliver(Client(), *paypal.webhook("PAYMENT.CAPTURE.COMPLETED", capture))

    assert answer.json() == {"status": "captured_needs_refund"}
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED and payment.needs_refund
    assert order.status == Order.Status.CANCELLED
    [refund] = paypal.refunds.values()
    assert refund["amount"] == {"currency_code": "CNY", "value": "110.00"}
    assert Refund.objects.get(payment=payment).status == Refund.Status.SUCCEEDED
    assert "will be refunded" in buyer_client.get(f"/payments/return/{payment.reference}/").content.decode()


def test_denied_pending_capture_fails_the_payment(buyer_client, paypal, order):
    paypal.capture_outcome = "PENDING"
    payment, _url = start(buyer_client, order)
    approve_and_return(buyer_client, paypal, payment)
    [capture] = paypal.captures.values()
    paypal.complete_capture(capture["id"], status="DENIED")

    answer = deliver(Client(), *paypal.webhook("PAYMENT.CAPTURE.DENIED", capture))

    assert answer.json() == {"status": "failed"}
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.FAILED and order.status == Order.Status.PENDING_PAYMENT


# --- Webhook verification ------------------------------------------------------------------------


def assert_nothing_stored(payment: Payment) -> None:
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert payment.order.status == Order.Status.PENDING_PAYMENT
    assert not WebhookEvent.objects.exists()


@pytest.fixture
def approved_but_pending(buyer_client, paypal, order):
    """Captured at PayPal, still pending here (PayPal held the capture for review)."""
    paypal.capture_outcome = "PENDING"
    payment, _url = start(buyer_client, order)
    approve_and_return(buyer_client, paypal, payment)
    [capture] = paypal.captures.values()
    paypal.complete_capture(capture["id"])
    return payment, capture


def test_forged_webhook_is_refused_and_stores_nothing(paypal, approved_but_pending):
    payment, capture = approved_but_pending
    body, headers = paypal.webhook("PAYMENT.CAPTURE.COMPLETED", capture)
    headers["PAYPAL-TRANSMISSION-SIG"] = "Zm9yZ2Vk" * 8

    response = deliver(Client(), body, headers)

    assert response.status_code == 400
    assert response.json() == {"message": "Invalid signature.", "code": "payment_error"}
    assert_nothing_stored(payment)


def test_genuine_headers_on_an_altered_body_are_refused(paypal, approved_but_pending):
    payment, capture = approved_but_pending
    body, headers = paypal.webhook("PAYMENT.CAPTURE.COMPLETED", capture)

    response = deliver(Client(), body.replace(b'"110.00"', b'"1.00"'), headers)

    assert response.status_code == 400
    assert_nothing_stored(payment)


def test_webhook_for_another_webhook_id_is_refused(paypal, approved_but_pending, settings):
    payment, capture = approved_but_pending
    settings.PAYPAL_WEBHOOK_ID = "ANOTHERSHOPSWEBHOOK"

    response = deliver(Client(), *paypal.webhook("PAYMENT.CAPTURE.COMPLETED", capture))

    assert response.status_code == 400
    assert_nothing_stored(payment)


def test_webhook_without_transmission_headers_is_refused_without_asking_paypal(paypal, approved_but_pending):
    payment, capture = approved_but_pending
    body, _headers = paypal.webhook("PAYMENT.CAPTURE.COMPLETED", capture)

    response = Client().post(WEBHOOK_URL, data=body, content_type="application/json")

    assert response.status_code == 400
    assert paypal.count("POST", "/verify-webhook-signature") == 0
    assert_nothing_stored(payment)


def test_webhook_is_answered_503_when_paypal_cannot_verify_it(paypal, approved_but_pending):
    payment, capture = approved_but_pending
    paypal.fail_next("/verify-webhook-signature", status=500)

    response = deliver(Client(), *paypal.webhook("PAYMENT.CAPTURE.COMPLETED", capture))

    assert response.status_code == 503  # PayPal delivers it again later
    assert_nothing_stored(payment)


# --- Refunds -------------------------------------------------------------------------------------


def test_refund_with_the_same_external_id_twice_refunds_once(buyer_client, paypal, order):
    payment = paid_with_paypal(buyer_client, paypal, order)
    provider = get_provider("paypal")

    first = provider.refund(payment, external_id="RF-TEST-1", amount=Decimal("30.00"), reason="Damaged cup")
    again = provider.refund(payment, external_id="RF-TEST-1", amount=Decimal("30.00"), reason="Damaged cup")

    assert first.status == again.status == CallResult.SUCCEEDED
    assert first.provider_reference == again.provider_reference
    [refund] = paypal.refunds.values()
    assert refund["amount"] == {"currency_code": "CNY", "value": "30.00"}
    assert refund["invoice_id"] == "RF-TEST-1" and refund["note_to_payer"] == "Damaged cup"
    assert paypal.captures[payment.provider_reference]["status"] == "PARTIALLY_REFUNDED"
    request_ids = [h["paypal-request-id"] for m, path, h in paypal.requests if path.endswith("/refund")]
    assert request_ids == ["RF-TEST-1", "RF-TEST-1"]


def test_refund_beyond_the_capture_is_refused_for_good(buyer_client, paypal, order):
    payment = paid_with_paypal(buyer_client, paypal, order)

    result = get_provider("paypal").refund(payment, external_id="RF-TOO-MUCH", amount=Decimal("110.01"), reason="")

    assert result.status == CallResult.FAILED and result.detail == "PayPal: REFUND_AMOUNT_EXCEEDED"
    assert not paypal.refunds


def test_second_tab_returning_after_the_order_was_paid_is_not_captured(buyer_client, paypal, order):
    first, _url = start(buyer_client, order)
    second, _url = start(buyer_client, order)  # two browser tabs, both approved at PayPal
    paypal.approve(second.provider_reference)
    approve_and_return(buyer_client, paypal, first)

    page = buyer_client.get(paypal.approve(second.provider_reference)).content.decode()

    assert "Payment failed" in page and "can no longer be paid" in page
    assert len(paypal.captures) == 1  # the buyer was charged once
    second.refresh_from_db()
    assert second.status == Payment.Status.FAILED and second.failure_reason == "Not captured: the order is paid."


def test_refund_webhook_completes_our_pending_refund_call(
    buyer_client, paypal, order, django_capture_on_commit_callbacks
):
    """A late capture is refunded through PayPal; PayPal holds the refund pending until
    PAYMENT.CAPTURE.REFUNDED names our call (the refund's invoice_id is the call's external id)."""
    paypal.capture_outcome = "PENDING"
    paypal.refund_outcome = "PENDING"
    payment, _url = start(buyer_client, order)
    approve_and_return(buyer_client, paypal, payment)
    [capture] = paypal.captures.values()
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert order_expire(order=order)
    paypal.complete_capture(capture["id"])
    with django_capture_on_commit_callbacks(execute=True):
        deliver(Client(), *paypal.webhook("PAYMENT.CAPTURE.COMPLETED", capture))
    call = ProviderCall.objects.get(payment=payment, kind=ProviderCall.Kind.REFUND)
    assert call.status == ProviderCall.Status.SENT
    [pending] = paypal.refunds.values()
    assert pending["invoice_id"] == call.external_id

    body, headers = paypal.webhook("PAYMENT.CAPTURE.REFUNDED", paypal.complete_refund(pending["id"]))
    answers = [deliver(Client(), body, headers) for _ in range(3)]

    assert [answer.json()["status"] for answer in answers] == ["call_succeeded", "duplicate", "duplicate"]
    call.refresh_from_db()
    assert call.status == ProviderCall.Status.SUCCEEDED and call.provider_reference == pending["id"]
    assert Refund.objects.get(call=call).status == Refund.Status.SUCCEEDED
    assert WebhookEvent.objects.get(event_type="PAYMENT.CAPTURE.REFUNDED").payment_id == payment.pk


# --- Token, reconciliation, configuration --------------------------------------------------------


def test_access_token_is_fetched_once_and_reused_across_requests(buyer_client, paypal, order):
    paid_with_paypal(buyer_client, paypal, order)  # create order + capture, two provider instances

    get_provider("paypal").records(day=timezone.localdate())

    assert paypal.count("POST", "/v1/oauth2/token") == 1
    assert len(paypal.tokens) == 1


def test_token_is_fetched_again_when_it_nears_expiry(paypal):
    paypal.token_ttl = 61  # cached for 1 s: PayPal's lifetime less our 60 s safety margin
    get_provider("paypal").records(day=timezone.localdate())
    get_provider("paypal").records(day=timezone.localdate())
    assert paypal.count("POST", "/v1/oauth2/token") == 1

    time.sleep(1.1)
    get_provider("paypal").records(day=timezone.localdate())

    assert paypal.count("POST", "/v1/oauth2/token") == 2


def test_revoked_token_is_dropped_and_the_next_try_gets_a_new_one(paypal):
    get_provider("paypal").records(day=timezone.localdate())
    paypal.tokens.clear()  # PayPal revoked it early

    with pytest.raises(ProviderUnavailable, match="HTTP 401"):
        get_provider("paypal").records(day=timezone.localdate())
    records = get_provider("paypal").records(day=timezone.localdate())

    assert records == [] and paypal.count("POST", "/v1/oauth2/token") == 2


def test_records_list_the_days_captures_and_refunds(buyer_client, paypal, order):
    payment = paid_with_paypal(buyer_client, paypal, order)
    get_provider("paypal").refund(payment, external_id="RF-REC-1", amount=Decimal("10.00"), reason="")

    records = get_provider("paypal").records(day=timezone.localdate())

    assert [(r.kind, r.reference, r.amount, r.currency) for r in records] == [
        ("capture", payment.reference, Decimal("110.00"), "CNY"),
        ("refund", "RF-REC-1", Decimal("10.00"), "CNY"),
    ]


def test_paypal_refunds_but_cannot_split_and_its_fee_rate_is_a_setting(settings):
    settings.PAYPAL_FEE_RATE = Decimal("0.0290")

    capabilities = get_provider_class("paypal").capabilities

    assert capabilities.can_refund and not capabilities.can_split and not capabilities.can_payout
    assert capabilities.fee_rate == Decimal("0.0290")


def test_enabling_paypal_without_its_credentials_is_refused_at_start_up(settings):
    settings.PAYMENT_PROVIDERS = ["sandbox", "paypal"]
    settings.PAYPAL_CLIENT_ID = "client"
    settings.PAYPAL_CLIENT_SECRET = ""
    settings.PAYPAL_WEBHOOK_ID = ""

    errors = check_paypal_settings(None)

    assert [(error.id, error.level) for error in errors] == [("payments.E030", checks.ERROR)] * 2
    assert "PAYPAL_CLIENT_SECRET" in errors[0].msg and "PAYPAL_WEBHOOK_ID" in errors[1].msg
    settings.PAYMENT_PROVIDERS = ["sandbox"]
    assert check_paypal_settings(None) == []
