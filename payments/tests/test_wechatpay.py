"""WeChat Pay profit sharing (分账), against a local fake WeChat Pay that speaks the v3 protocol:
the buyer pays a Native order, the signed and encrypted notification captures it, and the
platform's instructions (split, split return, refund, unfreeze) go out signed, once per external
id, within WeChat Pay's rules."""

import json
import secrets
import time
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from marketplace.errors import PaymentError
from orders.models import Order
from orders.tests.fulfilment_factories import order_for
from payments.apps import check_wechatpay_settings
from payments.models import Payment, ReceiverAccount, WebhookEvent
from payments.providers import get_provider
from payments.providers.base import CallResult, Notification, ProviderUnavailable, Receiver
from payments.tests.fake_wechatpay import FakeWeChatPay, Notice

pytestmark = pytest.mark.django_db

D = Decimal
MCHID = "1900000100"
APPID = "wx8888888888888888"
PLATFORM_SERIAL = "PUB_KEY_ID_0114232134912410000000000000"
SHOP_A_MCHID = "1900000201"
REFERRER_OPENID = "oUpF8uMuAJO_referrer_openid01"
WEBHOOK_URL = "/payments/webhooks/wechatpay/"


@pytest.fixture(scope="module")
def keys() -> dict[str, rsa.RSAPrivateKey]:
    return {name: rsa.generate_private_key(public_exponent=65537, key_size=2048) for name in ("merchant", "platform")}


def write_pem(path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


@pytest.fixture
def fake(settings, tmp_path, keys):
    """WeChat Pay, and our settings pointing at it with throwaway keys."""
    apiv3_key = secrets.token_hex(16)
    gateway = FakeWeChatPay(
        mchid=MCHID,
        appid=APPID,
        merchant_public_key=keys["merchant"].public_key(),
        merchant_serial="MERCHANT-SERIAL-1",
        platform_private_key=keys["platform"],
        platform_serial=PLATFORM_SERIAL,
        apiv3_key=apiv3_key,
        profitsharing_notify_url="http://127.0.0.1:9/payments/webhooks/wechatpay/",
    )
    with gateway:
        settings.SITE_URL = "http://127.0.0.1:9"
        settings.PAYMENT_PROVIDERS = ["sandbox", "wechatpay"]
        settings.WECHATPAY_BASE_URL = gateway.base_url
        settings.WECHATPAY_MCHID = MCHID
        settings.WECHATPAY_APPID = APPID
        settings.WECHATPAY_SERIAL_NO = "MERCHANT-SERIAL-1"
        settings.WECHATPAY_PRIVATE_KEY_PATH = write_pem(
            tmp_path / "apiclient_key.pem",
            keys["merchant"].private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        settings.WECHATPAY_PLATFORM_CERT_PATH = write_pem(
            tmp_path / "wechatpay_public_key.pem",
            keys["platform"]
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        )
        settings.WECHATPAY_PLATFORM_SERIAL = PLATFORM_SERIAL
        settings.WECHATPAY_APIV3_KEY = apiv3_key
        yield gateway


@pytest.fixture
def provider(fake):
    return get_provider("wechatpay")


@pytest.fixture
def buyer_client(buyer):
    client = Client()
    client.force_login(buyer)
    return client


@pytest.fixture
def order(buyer, shop_a, shop_b):
    return order_for(buyer=buyer, vendors=[shop_a, shop_b], quantity=2, price="50.00")  # ¥220.00


def start(buyer_client, order) -> tuple[Payment, str]:
    response = buyer_client.post(f"/payments/start/{order.number}/", {"provider": "wechatpay"})
    assert response.status_code == 302, response.content[:300]
    payment = Payment.objects.get(order=order, provider="wechatpay")
    return payment, response["Location"]


def deliver(notice: Notice, **header_changes):
    headers = {name: value for name, value in notice.headers.items() if name != "Content-Type"}
    headers.update(header_changes)
    return Client().post(WEBHOOK_URL, data=notice.body, content_type="application/json", headers=headers)


@pytest.fixture
def payment(fake, buyer_client, order) -> Payment:
    """A captured ¥220.00 WeChat Pay payment, through our webhook."""
    payment, _page = start(buyer_client, order)
    assert deliver(fake.pay(payment.reference)).json() == {"status": "captured"}
    payment.refresh_from_db()
    return payment


@pytest.fixture
def shop_a_receiver(shop_a):
    return ReceiverAccount.objects.create(
        owner_type="vendor", owner_key=str(shop_a.pk), provider="wechatpay", account=SHOP_A_MCHID, name="茶馆有限公司"
    )


def shop_a_share(amount: str) -> Receiver:
    return Receiver(account=SHOP_A_MCHID, kind="vendor", amount=D(amount), description="Tea House share")


def last_request(fake: FakeWeChatPay, path: str) -> dict:
    return json.loads([r for r in fake.requests if r["path"] == path][-1]["body"])


# --- Collecting the payment --------------------------------------------------------------------


def test_paying_opens_a_native_order_in_fen_with_profit_sharing(fake, buyer_client, order):
    payment, page_url = start(buyer_client, order)

    sent = last_request(fake, "/v3/pay/transactions/native")
    assert sent["out_trade_no"] == payment.reference
    assert sent["amount"] == {"total": 22000, "currency": "CNY"}
    assert sent["settle_info"] == {"profit_sharing": True}
    assert sent["mchid"] == MCHID and sent["appid"] == APPID
    assert sent["notify_url"] == "http://127.0.0.1:9/payments/webhooks/wechatpay/"
    page = buyer_client.get(page_url)
    assert page.status_code == 200
    assert fake.transactions[payment.reference]["code_url"] in page.content.decode()
    assert "¥220.00" in page.content.decode()


def test_the_code_page_is_only_for_the_payer_and_cannot_be_forged(fake, buyer_client, order, other_buyer):
    _payment, page_url = start(buyer_client, order)
    stranger = Client()
    stranger.force_login(other_buyer)

    assert stranger.get(page_url).status_code == 404
    assert buyer_client.get(page_url[:-5] + "abcd/").status_code == 404


def test_the_paid_notification_through_our_webhook_captures_the_order(fake, buyer_client, order):
    payment, _page = start(buyer_client, order)
    notice = fake.pay(payment.reference)

    answer = deliver(notice)
    replay = deliver(notice)

    assert answer.status_code == 200 and answer.json() == {"status": "captured"}
    assert replay.json() == {"status": "duplicate"}
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED
    assert payment.provider_reference == fake.transactions[payment.reference]["transaction_id"]
    assert order.status == Order.Status.PAID
    assert WebhookEvent.objects.filter(provider="wechatpay").count() == 1


def test_the_notification_is_verified_and_decrypted(fake, provider, buyer_client, order):
    payment, _page = start(buyer_client, order)
    notice = fake.pay(payment.reference)

    notification = provider.verify_notification(headers=notice.headers, body=notice.body)

    assert notification.subject == "payment" and notification.status == Notification.SUCCEEDED
    assert notification.payment_reference == payment.reference
    assert notification.provider_reference == notice.resource["transaction_id"]
    assert notification.amount == D("220.00") and notification.currency == "CNY"
    assert notification.event_id == json.loads(notice.body)["id"]
    assert notification.payload["resource"]["payer"]["openid"]  # the decrypted resource is kept


def test_a_tampered_notification_is_refused_and_captures_nothing(fake, buyer_client, order):
    payment, _page = start(buyer_client, order)
    notice = fake.pay(payment.reference)
    tampered = Notice(
        url=notice.url,
        headers=notice.headers,
        body=notice.body.replace(b"TRANSACTION.SUCCESS", b"TRANSACTION.SUCCESS "),
        event_type=notice.event_type,
        resource=notice.resource,
    )

    answer = deliver(tampered)

    assert answer.status_code == 400 and answer.json()["message"] == "Invalid signature."
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert not WebhookEvent.objects.exists()


def test_a_notification_signed_with_another_key_is_refused(fake, provider, buyer_client, order):
    payment, _page = start(buyer_client, order)
    fake.answer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # an impostor
    notice = fake.pay(payment.reference)

    with pytest.raises(PaymentError, match="Invalid signature"):
        provider.verify_notification(headers=notice.headers, body=notice.body)


def test_a_notification_naming_another_platform_key_is_refused(fake, provider, buyer_client, order):
    payment, _page = start(buyer_client, order)
    notice = fake.pay(payment.reference)

    with pytest.raises(PaymentError, match="Invalid signature"):
        provider.verify_notification(
            headers={**notice.headers, "Wechatpay-Serial": "PUB_KEY_ID_OTHER"}, body=notice.body
        )


def test_an_expired_notification_is_refused(fake, provider, buyer_client, order):
    payment, _page = start(buyer_client, order)
    fake.pay(payment.reference)
    six_minutes_ago = int(time.time()) - 360
    old = fake.notification(
        "TRANSACTION.SUCCESS",
        fake.notifications[-1].resource,
        url="",
        original_type="transaction",
        timestamp=six_minutes_ago,
    )

    with pytest.raises(PaymentError, match="tolerance"):
        provider.verify_notification(headers=old.headers, body=old.body)
    assert deliver(old).status_code == 400


def test_a_notification_encrypted_with_another_apiv3_key_is_refused(fake, provider, buyer_client, order):
    payment, _page = start(buyer_client, order)
    fake.apiv3_key = secrets.token_hex(16)
    notice = fake.pay(payment.reference)  # genuinely signed, but we cannot read it

    with pytest.raises(PaymentError, match="cannot be decrypted"):
        provider.verify_notification(headers=notice.headers, body=notice.body)


def test_a_notification_with_missing_headers_is_refused(fake, provider, buyer_client, order):
    payment, _page = start(buyer_client, order)
    notice = fake.pay(payment.reference)
    headers = {name: value for name, value in notice.headers.items() if name != "Wechatpay-Nonce"}

    with pytest.raises(PaymentError, match="Missing signature headers"):
        provider.verify_notification(headers=headers, body=notice.body)


# --- Profit sharing, returns, refunds, unfreeze ---------------------------------------------------


def test_split_return_refund_and_unfreeze_flow(fake, provider, payment, shop_a_receiver):
    transaction_id = payment.provider_reference
    transaction = fake.transactions[payment.reference]
    referrer = Receiver(account=REFERRER_OPENID, kind="referrer", amount=D("10.00"))
    platform = Receiver(account=MCHID, kind="platform", amount=D("20.00"))

    split = provider.split(payment, external_id="SP-1", receivers=[shop_a_share("150.00"), referrer, platform])

    # Accepted, processed later; the receivers were added first, the platform is not a receiver.
    assert split.status == CallResult.PENDING and split.provider_reference == fake.orders["SP-1"]["order_id"]
    sent = last_request(fake, "/v3/profitsharing/orders")
    assert sent["transaction_id"] == transaction_id and sent["unfreeze_unsplit"] is False
    assert [(r["type"], r["account"], r["amount"]) for r in sent["receivers"]] == [
        ("MERCHANT_ID", SHOP_A_MCHID, 15000),
        ("PERSONAL_OPENID", REFERRER_OPENID, 1000),
    ]
    assert fake.receivers[("MERCHANT_ID", SHOP_A_MCHID)]["name"] == "茶馆有限公司"  # sent encrypted
    assert fake.receivers[("MERCHANT_ID", SHOP_A_MCHID)]["relation_type"] == "SUPPLIER"
    shop_a_receiver.refresh_from_db()
    assert shop_a_receiver.registered_at is not None

    fake.notifications.clear()
    fake.process_pending()
    split_done = [provider.verify_notification(headers=n.headers, body=n.body) for n in fake.notifications]
    assert {(n.subject, n.payment_reference, n.status, n.amount) for n in split_done} == {
        ("call", "SP-1", Notification.SUCCEEDED, D("150.00")),
        ("call", "SP-1", Notification.SUCCEEDED, D("10.00")),
    }

    fake.notifications.clear()
    returned = provider.split_return(
        payment, external_id="SR-1", split_external_id="SP-1", receiver=shop_a_share("50.00")
    )
    assert returned.status == CallResult.SUCCEEDED
    assert last_request(fake, "/v3/profitsharing/return-orders") == {
        "out_order_no": "SP-1",
        "out_return_no": "SR-1",
        "return_mchid": SHOP_A_MCHID,
        "amount": 5000,
        "description": "Tea House share",
    }
    [return_notice] = [provider.verify_notification(headers=n.headers, body=n.body) for n in fake.notifications]
    assert (return_notice.subject, return_notice.payment_reference, return_notice.amount) == ("call", "SR-1", D("50"))

    fake.notifications.clear()
    refunded = provider.refund(payment, external_id="RF-1", amount=D("50.00"), reason="broken teapot")
    assert refunded.status == CallResult.PENDING
    assert last_request(fake, "/v3/refund/domestic/refunds")["amount"] == {
        "refund": 5000,
        "total": 22000,
        "currency": "CNY",
    }
    fake.process_pending()
    [refund_notice] = [provider.verify_notification(headers=n.headers, body=n.body) for n in fake.notifications]
    assert refund_notice.subject == "call" and refund_notice.payment_reference == "RF-1"
    assert refund_notice.status == Notification.SUCCEEDED and refund_notice.amount == D("50.00")

    finished = provider.split_finish(payment, external_id="FIN-1")
    assert finished.status == CallResult.PENDING
    fake.process_pending()
    # What is left frozen (the platform's commission and the unsplit rest) goes to the merchant:
    # 220 paid - 50 refunded - (160 split - 50 returned) = 60.
    assert fake.orders["FIN-1"]["receivers"][0] == {**fake.orders["FIN-1"]["receivers"][0], "amount": 6000}
    assert fake.orders["FIN-1"]["state"] == "FINISHED" and transaction["unfrozen"]
    after_finish = provider.split(payment, external_id="SP-2", receivers=[shop_a_share("1.00")])
    assert after_finish.status == CallResult.FAILED


def test_a_receiver_is_added_once_before_its_first_split(fake, provider, payment, shop_a_receiver):
    provider.split(payment, external_id="SP-1", receivers=[shop_a_share("10.00")])
    provider.split(payment, external_id="SP-2", receivers=[shop_a_share("10.00")])

    adds = [r for r in fake.requests if r["path"] == "/v3/profitsharing/receivers/add"]
    assert len(adds) == 1
    assert {k.lower(): v for k, v in adds[0]["headers"].items()}["wechatpay-serial"] == PLATFORM_SERIAL


def test_a_split_retried_after_a_500_with_the_same_out_order_no_splits_once(fake, provider, payment, shop_a_receiver):
    fake.fail_after("/v3/profitsharing/orders")  # WeChat Pay split, but the answer is lost

    with pytest.raises(ProviderUnavailable):
        provider.split(payment, external_id="SP-1", receivers=[shop_a_share("100.00")])
    retried = provider.split(payment, external_id="SP-1", receivers=[shop_a_share("100.00")])

    assert retried.status == CallResult.PENDING
    assert list(fake.orders) == ["SP-1"]
    assert fake.split_total(payment.provider_reference) == 10000
    assert fake.unsplit(fake.transactions[payment.reference]) == 12000


def test_a_split_larger_than_the_unsplit_amount_is_refused(fake, provider, payment, shop_a_receiver):
    provider.split(payment, external_id="SP-1", receivers=[shop_a_share("200.00")])

    result = provider.split(payment, external_id="SP-2", receivers=[shop_a_share("20.01")])

    assert result.status == CallResult.FAILED and "NOT_ENOUGH" in result.detail
    assert "SP-2" not in fake.orders


def test_a_split_to_more_than_fifty_receivers_is_refused(fake, provider, payment):
    receivers = [Receiver(account=f"oPerson{n:02d}", kind="referrer", amount=D("1.00")) for n in range(51)]

    result = provider.split(payment, external_id="SP-1", receivers=receivers)

    assert result.status == CallResult.FAILED and "PARAM_ERROR" in result.detail
    assert not fake.orders


def test_the_same_out_order_no_with_other_amounts_is_refused(fake, provider, payment, shop_a_receiver):
    provider.split(payment, external_id="SP-1", receivers=[shop_a_share("10.00")])

    result = provider.split(payment, external_id="SP-1", receivers=[shop_a_share("11.00")])

    assert result.status == CallResult.FAILED and "INVALID_REQUEST" in result.detail
    assert fake.split_total(payment.provider_reference) == 1000


def test_a_split_return_never_exceeds_what_the_receiver_got(fake, provider, payment, shop_a_receiver):
    provider.split(payment, external_id="SP-1", receivers=[shop_a_share("30.00")])
    fake.process_pending()

    too_much = provider.split_return(
        payment, external_id="SR-1", split_external_id="SP-1", receiver=shop_a_share("30.01")
    )
    all_of_it = provider.split_return(
        payment, external_id="SR-2", split_external_id="SP-1", receiver=shop_a_share("30.00")
    )

    assert too_much.status == CallResult.FAILED and all_of_it.status == CallResult.SUCCEEDED
    assert fake.returned_total(payment.provider_reference) == 3000


def test_a_share_of_a_person_cannot_be_returned(fake, provider, payment):
    referrer = Receiver(account=REFERRER_OPENID, kind="referrer", amount=D("1.00"))

    result = provider.split_return(payment, external_id="SR-1", split_external_id="SP-1", receiver=referrer)

    assert result.status == CallResult.FAILED
    assert not any(r["path"] == "/v3/profitsharing/return-orders" for r in fake.requests)


def test_a_refund_never_exceeds_what_was_paid(fake, provider, payment):
    assert provider.refund(payment, external_id="RF-1", amount=D("200.00"), reason="").status == CallResult.PENDING

    result = provider.refund(payment, external_id="RF-2", amount=D("20.01"), reason="")

    assert result.status == CallResult.FAILED and "INVALID_REQUEST" in result.detail
    assert fake.refunded_total(payment.provider_reference) == 20000


def test_a_refund_of_split_money_needs_the_split_returned_first(fake, provider, payment, shop_a_receiver):
    provider.split(payment, external_id="SP-1", receivers=[shop_a_share("200.00")])

    result = provider.refund(payment, external_id="RF-1", amount=D("30.00"), reason="")

    assert result.status == CallResult.FAILED and "NOT_ENOUGH" in result.detail


def test_a_refund_retried_with_the_same_out_refund_no_refunds_once(fake, provider, payment):
    fake.fail_after("/v3/refund/domestic/refunds")

    with pytest.raises(ProviderUnavailable):
        provider.refund(payment, external_id="RF-1", amount=D("20.00"), reason="")
    retried = provider.refund(payment, external_id="RF-1", amount=D("20.00"), reason="")

    assert retried.status == CallResult.PENDING
    assert fake.refunded_total(payment.provider_reference) == 2000


def test_requests_signed_with_the_wrong_key_are_refused_and_retried_later(fake, provider, payment, settings, tmp_path):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings.WECHATPAY_PRIVATE_KEY_PATH = write_pem(
        tmp_path / "wrong_key.pem",
        other.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )

    with pytest.raises(ProviderUnavailable, match="SIGN_ERROR"):
        get_provider("wechatpay").refund(payment, external_id="RF-1", amount=D("1.00"), reason="")
    assert not fake.refunds


def test_an_answer_not_signed_by_wechat_pay_is_not_trusted(fake, provider, payment):
    fake.answer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    with pytest.raises(ProviderUnavailable, match="signature"):
        provider.refund(payment, external_id="RF-1", amount=D("1.00"), reason="")


def test_wechat_pay_unreachable_is_retryable(fake, provider, payment, settings):
    settings.WECHATPAY_BASE_URL = "http://127.0.0.1:9"

    with pytest.raises(ProviderUnavailable):
        get_provider("wechatpay").split_finish(payment, external_id="FIN-1")


# --- Configuration ---------------------------------------------------------------------------------


def test_capabilities_split_and_refund_but_no_payouts(fake, settings):
    settings.WECHATPAY_FEE_RATE = D("0.0038")

    capabilities = get_provider("wechatpay").capabilities

    assert capabilities.can_split and capabilities.can_refund and not capabilities.can_payout
    assert capabilities.freeze_days == 180 and capabilities.fee_rate == D("0.0038")


def test_enabling_wechatpay_without_credentials_is_refused_at_start_up(settings):
    settings.PAYMENT_PROVIDERS = ["sandbox", "wechatpay"]
    settings.WECHATPAY_MCHID = ""
    settings.WECHATPAY_APIV3_KEY = "too-short"
    settings.WECHATPAY_PRIVATE_KEY_PATH = "/nonexistent/apiclient_key.pem"

    errors = check_wechatpay_settings(None)

    assert {error.id for error in errors} == {"payments.E040"}
    messages = " ".join(error.msg for error in errors)
    assert "WECHATPAY_MCHID is not set" in messages
    assert "32-byte" in messages
    assert "WECHATPAY_PRIVATE_KEY_PATH (/nonexistent/apiclient_key.pem) cannot be read" in messages


def test_a_complete_wechatpay_configuration_passes_the_check(fake):
    assert check_wechatpay_settings(None) == []


def test_wechatpay_not_enabled_needs_no_configuration(settings):
    settings.PAYMENT_PROVIDERS = ["sandbox"]
    settings.WECHATPAY_MCHID = ""

    assert check_wechatpay_settings(None) == []
