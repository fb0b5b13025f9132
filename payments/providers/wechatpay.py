"""WeChat Pay (API v3) with profit sharing (分账): the buyer pays the merchant's WeChat Pay account,
the money stays frozen there, and we only instruct WeChat Pay to route each receiver's share to
the receiver's own account (no 二清). The unsplit rest is released by 解冻剩余资金 (split_finish).

Protocol, as WeChat Pay speaks it (see the reference notes, section 3):
- Requests are JSON, signed with the merchant's API private key: Authorization
  `WECHATPAY2-SHA256-RSA2048 mchid="..",nonce_str="..",signature="..",timestamp="..",serial_no=".."`,
  the signature being RSA-SHA256 (PKCS#1 v1.5, base64) over "METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nBODY\\n".
- Answers and notifications are signed by WeChat Pay's platform key over "TIMESTAMP\\nNONCE\\nBODY\\n"
  (headers Wechatpay-Timestamp, -Nonce, -Signature, -Serial); we verify both.
- A notification's `resource` is encrypted with AEAD_AES_256_GCM under the APIv3 key.
- Amounts are integers in fen. Every instruction carries our stable external id as its
  out_order_no / out_return_no / out_refund_no, which WeChat Pay de-duplicates.
- A receiver must be added (receivers/add) before the first split to it; its name is encrypted
  with the platform public key (RSA-OAEP). The merchant cannot be its own receiver: the platform's
  commission is simply not split away, and split_finish releases it to the merchant.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509 import load_pem_x509_certificate
from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import classproperty
from django.utils.translation import gettext

from marketplace.errors import PaymentError
from marketplace.money import from_minor, to_minor
from payments.models import ReceiverAccount
from payments.providers.base import (
    CallResult,
    Capabilities,
    Notification,
    PaymentProvider,
    ProviderResult,
    ProviderUnavailable,
    Receiver,
    StartResult,
)

if TYPE_CHECKING:
    from payments.models import Payment

logger = logging.getLogger(__name__)

SCHEMA = "WECHATPAY2-SHA256-RSA2048"
CURRENCY = "CNY"  # domestic WeChat Pay settles in yuan only
TIMEOUT_SECONDS = 10
NATIVE_ORDER = "/v3/pay/transactions/native"
RECEIVER_ADD = "/v3/profitsharing/receivers/add"
SPLIT_ORDER = "/v3/profitsharing/orders"
SPLIT_RETURN = "/v3/profitsharing/return-orders"
SPLIT_UNFREEZE = "/v3/profitsharing/orders/unfreeze"
REFUND = "/v3/refund/domestic/refunds"
# Error codes that a later retry of the same request can get past.
RETRYABLE_CODES = {"SYSTEM_ERROR", "FREQUENCY_LIMITED", "RATELIMIT_EXCEEDED", "ORDER_NOT_READY", "BIZERR_NEED_RETRY"}
RELATION_TYPES = {"vendor": "SUPPLIER", "referrer": "DISTRIBUTOR", "platform": "PARTNER"}
CODE_PAGE_SALT = "payments.wechatpay.code"
SETTING_NAMES = (
    "WECHATPAY_MCHID",
    "WECHATPAY_APPID",
    "WECHATPAY_SERIAL_NO",
    "WECHATPAY_PRIVATE_KEY_PATH",
    "WECHATPAY_PLATFORM_CERT_PATH",
    "WECHATPAY_PLATFORM_SERIAL",
    "WECHATPAY_APIV3_KEY",
)


class _Refused(Exception):
    """WeChat Pay answered 4xx with a final error code: a retry cannot change the answer."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


# --- Keys and signatures ----------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def load_private_key(path: str) -> rsa.RSAPrivateKey:
    with open(path, "rb") as pem:
        key = serialization.load_pem_private_key(pem.read(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} is not an RSA private key")
    return key


@functools.lru_cache(maxsize=8)
def load_platform_key(path: str) -> rsa.RSAPublicKey:
    """WeChat Pay's platform public key, from a public key PEM or a platform certificate PEM."""
    with open(path, "rb") as pem:
        data = pem.read()
    key = (
        load_pem_x509_certificate(data).public_key()
        if b"BEGIN CERTIFICATE" in data
        else serialization.load_pem_public_key(data)
    )
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError(f"{path} is not an RSA public key")
    return key


def signed_text(*parts: str) -> bytes:
    """WeChat Pay's message to sign: every part followed by a line feed."""
    return "".join(f"{part}\n" for part in parts).encode()


def rsa_sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verify(key: rsa.RSAPublicKey, message: bytes, signature: str) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def aead_decrypt(apiv3_key: str, *, nonce: str, ciphertext: str, associated_data: str) -> bytes:
    return AESGCM(apiv3_key.encode()).decrypt(
        nonce.encode(), base64.b64decode(ciphertext), associated_data.encode() if associated_data else None
    )


def oaep_encrypt(key: rsa.RSAPublicKey, text: str) -> str:
    """Sensitive fields (a receiver's name) travel encrypted with the platform key, RSA-OAEP (SHA-1)."""
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)  # noqa: S303 - WeChat Pay's scheme
    return base64.b64encode(key.encrypt(text.encode(), oaep)).decode()


@dataclass(frozen=True)
class Config:
    base_url: str
    mchid: str
    appid: str
    serial_no: str
    private_key_path: str
    platform_cert_path: str
    platform_serial: str
    apiv3_key: str

    @classmethod
    def from_settings(cls) -> Config:
        return cls(
            base_url=settings.WECHATPAY_BASE_URL.rstrip("/"),
            mchid=settings.WECHATPAY_MCHID,
            appid=settings.WECHATPAY_APPID,
            serial_no=settings.WECHATPAY_SERIAL_NO,
            private_key_path=settings.WECHATPAY_PRIVATE_KEY_PATH,
            platform_cert_path=settings.WECHATPAY_PLATFORM_CERT_PATH,
            platform_serial=settings.WECHATPAY_PLATFORM_SERIAL,
            apiv3_key=settings.WECHATPAY_APIV3_KEY,
        )


def configuration_problems() -> list[str]:
    """What keeps the wechatpay provider from working with the current settings (system check)."""
    problems = [f"{name} is not set." for name in SETTING_NAMES if not getattr(settings, name, "")]
    if settings.WECHATPAY_APIV3_KEY and len(settings.WECHATPAY_APIV3_KEY.encode()) != 32:
        problems.append("WECHATPAY_APIV3_KEY must be the 32-byte APIv3 key.")
    for name, loader in (
        ("WECHATPAY_PRIVATE_KEY_PATH", load_private_key),
        ("WECHATPAY_PLATFORM_CERT_PATH", load_platform_key),
    ):
        path = getattr(settings, name, "")
        if path:
            try:
                loader(path)
            except (OSError, ValueError, TypeError) as exc:
                problems.append(f"{name} ({path}) cannot be read: {exc}")
    return problems


def receiver_type(account: str) -> str:
    """WeChat merchant ids are digits; anything else is a person's openid."""
    return "MERCHANT_ID" if account.isdigit() else "PERSONAL_OPENID"


def code_page_token(*, reference: str, code_url: str) -> str:
    return signing.dumps({"reference": reference, "code_url": code_url}, salt=CODE_PAGE_SALT)


def code_page_read(token: str) -> dict:
    """The payment reference and code URL a code page shows; BadSignature when forged."""
    return signing.loads(token, salt=CODE_PAGE_SALT)


# --- The client ----------------------------------------------------------------------------


class WeChatPayProvider(PaymentProvider):
    code = "wechatpay"
    name = "WeChat Pay"

    @classproperty
    def capabilities(cls) -> Capabilities:  # noqa: N805 - a class property
        # Profit sharing routes shares to receivers' own WeChat Pay accounts: there is nothing
        # to pay out afterwards. Unsplit money is released by WeChat Pay after 180 days.
        return Capabilities(
            can_refund=True, can_split=True, can_payout=False, freeze_days=180, fee_rate=settings.WECHATPAY_FEE_RATE
        )

    def __init__(self, config: Config | None = None):
        self.config = config or Config.from_settings()

    # --- Collecting the payment -----------------------------------------------------------

    def start(self, payment: Payment, *, return_url: str, notify_url: str) -> StartResult:
        """A Native (QR code) order with profit sharing on; the transaction id arrives with the
        payment notification, so the provider reference stays empty until then."""
        if payment.currency != CURRENCY:
            raise PaymentError(gettext("WeChat Pay accepts payments in CNY only."))
        answer = self._post(
            NATIVE_ORDER,
            {
                "appid": self.config.appid,
                "mchid": self.config.mchid,
                "description": f"Order {payment.order.number}"[:127],
                "out_trade_no": payment.reference,
                "time_expire": timezone.localtime(payment.order.expires_at).isoformat(timespec="seconds"),
                "notify_url": notify_url,
                "amount": {"total": to_minor(payment.amount, CURRENCY), "currency": CURRENCY},
                "settle_info": {"profit_sharing": True},
            },
        )
        token = code_page_token(reference=payment.reference, code_url=str(answer["code_url"]))
        return StartResult(redirect_url=reverse("payments:wechatpay-code", args=[token]), provider_reference="")

    def verify_notification(self, *, headers: Mapping[str, str], body: bytes) -> Notification:
        lowered = {key.lower(): value for key, value in headers.items()}
        timestamp = lowered.get("wechatpay-timestamp", "")
        nonce = lowered.get("wechatpay-nonce", "")
        signature = lowered.get("wechatpay-signature", "")
        serial = lowered.get("wechatpay-serial", "")
        if not (timestamp and nonce and signature and serial):
            raise PaymentError(gettext("Missing signature headers."))
        try:
            sent_at = int(timestamp)
        except ValueError:
            raise PaymentError(gettext("Malformed signature timestamp.")) from None
        if abs(time.time() - sent_at) > settings.PAYMENT_WEBHOOK_TOLERANCE_SECONDS:
            raise PaymentError(gettext("Notification timestamp is outside the tolerance window."))
        if serial != self.config.platform_serial:
            raise PaymentError(gettext("Invalid signature."))
        platform_key = load_platform_key(self.config.platform_cert_path)
        if not rsa_verify(platform_key, signed_text(timestamp, nonce, body.decode(errors="replace")), signature):
            raise PaymentError(gettext("Invalid signature."))
        try:
            payload = json.loads(body)
            encrypted = payload["resource"]
            resource = json.loads(
                aead_decrypt(
                    self.config.apiv3_key,
                    nonce=str(encrypted["nonce"]),
                    ciphertext=str(encrypted["ciphertext"]),
                    associated_data=str(encrypted.get("associated_data") or ""),
                )
            )
            notification = self._notification(payload, resource)
        except InvalidTag:
            raise PaymentError(gettext("The notification cannot be decrypted.")) from None
        except (ValueError, TypeError, KeyError):
            raise PaymentError(gettext("Malformed notification body.")) from None
        if not notification.event_id or len(notification.event_id) > 128:
            raise PaymentError(gettext("Malformed notification body."))
        if str(resource.get("mchid") or resource.get("sp_mchid") or self.config.mchid) != self.config.mchid:
            raise PaymentError(gettext("The notification is for another merchant."))
        return notification

    def _notification(self, payload: dict, resource: dict) -> Notification:
        event_type = str(payload["event_type"])
        common = {
            "event_id": str(payload["id"]),
            "event_type": event_type,
            "payload": {**payload, "resource": resource},
        }
        if event_type.startswith("TRANSACTION."):
            amount = resource["amount"]
            currency = str(amount.get("currency") or CURRENCY)
            state = resource.get("trade_state")
            return Notification(
                **common,
                payment_reference=str(resource["out_trade_no"]),
                provider_reference=str(resource.get("transaction_id", "")),
                amount=from_minor(int(amount["total"]), currency),
                currency=currency,
                status={"SUCCESS": Notification.SUCCEEDED, "PAYERROR": Notification.FAILED}.get(
                    state, Notification.OTHER
                ),
            )
        if event_type.startswith("REFUND."):
            return Notification(
                **common,
                subject="call",
                payment_reference=str(resource["out_refund_no"]),
                provider_reference=str(resource.get("refund_id", "")),
                amount=from_minor(int(resource["amount"]["refund"]), CURRENCY),
                currency=CURRENCY,
                status={
                    "SUCCESS": Notification.SUCCEEDED,
                    "CLOSED": Notification.FAILED,
                    "ABNORMAL": Notification.FAILED,
                }.get(resource.get("refund_status"), Notification.OTHER),
            )
        if event_type in ("PROFITSHARING.SUCCESS", "PROFITSHARING.RETURN"):
            # One notification per receiver moved; out_order_no is our split's (or, for a return,
            # our return's) external id.
            return Notification(
                **common,
                subject="call",
                payment_reference=str(resource["out_order_no"]),
                provider_reference=str(resource.get("order_id", "")),
                amount=from_minor(int(resource["receiver"]["amount"]), CURRENCY),
                currency=CURRENCY,
                status=Notification.SUCCEEDED,
            )
        return Notification(
            **common,
            payment_reference=str(resource.get("out_trade_no", "")),
            provider_reference=str(resource.get("transaction_id", "")),
            amount=Decimal("0"),
            currency=CURRENCY,
            status=Notification.OTHER,
        )

    # --- Instructions -----------------------------------------------------------------------

    def split(self, payment: Payment, *, external_id: str, receivers: list[Receiver]) -> ProviderResult:
        """Request 分账 of `receivers` out of the payment's frozen money. Usually PENDING
        (PROCESSING): the outcome comes by PROFITSHARING notification."""
        # The merchant cannot be its own receiver: its commission stays frozen with it until
        # split_finish releases it.
        routed = [receiver for receiver in receivers if receiver.account != self.config.mchid]
        if not routed:
            return ProviderResult(status=CallResult.SUCCEEDED, detail="nothing to route: the merchant keeps it all")
        problem = self._check(payment)
        if problem:
            return problem
        try:
            for receiver in routed:
                self._receiver_add(receiver)
            answer = self._post(
                SPLIT_ORDER,
                {
                    "appid": self.config.appid,
                    "transaction_id": payment.provider_reference,
                    "out_order_no": external_id,
                    "receivers": [
                        {
                            "type": receiver_type(receiver.account),
                            "account": receiver.account,
                            "amount": to_minor(receiver.amount, CURRENCY),
                            "description": (receiver.description or f"{receiver.kind} share")[:80],
                        }
                        for receiver in routed
                    ],
                    "unfreeze_unsplit": False,
                },
            )
        except _Refused as refusal:
            return ProviderResult(status=CallResult.FAILED, detail=str(refusal))
        return _split_order_result(answer)

    def split_return(
        self, payment: Payment, *, external_id: str, split_external_id: str, receiver: Receiver
    ) -> ProviderResult:
        """请求分账回退: take back part of what one receiver got from one split."""
        if receiver.account == self.config.mchid:
            return ProviderResult(status=CallResult.SUCCEEDED, detail="never split away: nothing to return")
        if receiver_type(receiver.account) != "MERCHANT_ID":
            return ProviderResult(
                status=CallResult.FAILED, detail="WeChat Pay returns shares from merchant receivers only"
            )
        try:
            answer = self._post(
                SPLIT_RETURN,
                {
                    "out_order_no": split_external_id,
                    "out_return_no": external_id,
                    "return_mchid": receiver.account,
                    "amount": to_minor(receiver.amount, CURRENCY),
                    "description": (receiver.description or "refund")[:80],
                },
            )
        except _Refused as refusal:
            return ProviderResult(status=CallResult.FAILED, detail=str(refusal))
        status = {"SUCCESS": CallResult.SUCCEEDED, "PROCESSING": CallResult.PENDING}.get(
            answer.get("result"), CallResult.FAILED
        )
        return ProviderResult(
            status=status,
            provider_reference=str(answer.get("return_id", "")),
            detail=str(answer.get("fail_reason", "")),
            raw=answer,
        )

    def split_finish(self, payment: Payment, *, external_id: str) -> ProviderResult:
        """解冻剩余资金: ends splitting; the unsplit rest (the platform's commission) goes to the merchant."""
        problem = self._check(payment)
        if problem:
            return problem
        try:
            answer = self._post(
                SPLIT_UNFREEZE,
                {
                    "transaction_id": payment.provider_reference,
                    "out_order_no": external_id,
                    "description": "splitting finished",
                },
            )
        except _Refused as refusal:
            return ProviderResult(status=CallResult.FAILED, detail=str(refusal))
        return _split_order_result(answer)

    def refund(self, payment: Payment, *, external_id: str, amount: Decimal, reason: str) -> ProviderResult:
        problem = self._check(payment)
        if problem:
            return problem
        body = {
            "transaction_id": payment.provider_reference,
            "out_refund_no": external_id,
            "notify_url": settings.SITE_URL + reverse("payments:webhook", args=[self.code]),
            "amount": {
                "refund": to_minor(amount, CURRENCY),
                "total": to_minor(payment.amount, CURRENCY),
                "currency": CURRENCY,
            },
        }
        if reason:
            body["reason"] = reason[:80]
        try:
            answer = self._post(REFUND, body)
        except _Refused as refusal:
            return ProviderResult(status=CallResult.FAILED, detail=str(refusal))
        status = {"SUCCESS": CallResult.SUCCEEDED, "PROCESSING": CallResult.PENDING}.get(
            answer.get("status"), CallResult.FAILED
        )
        return ProviderResult(
            status=status,
            provider_reference=str(answer.get("refund_id", "")),
            detail="" if status != CallResult.FAILED else f"refund {answer.get('status')}",
            raw=answer,
        )

    # --- Plumbing -----------------------------------------------------------------------------

    def _check(self, payment: Payment) -> ProviderResult | None:
        if payment.currency != CURRENCY:
            return ProviderResult(status=CallResult.FAILED, detail="WeChat Pay settles CNY only")
        if not payment.provider_reference:
            return ProviderResult(status=CallResult.FAILED, detail="the payment has no WeChat Pay transaction id")
        return None

    def _receiver_add(self, receiver: Receiver) -> None:
        """添加分账接收方, once per receiver: ReceiverAccount.registered_at remembers it. Adding
        again is harmless at WeChat Pay, so a crash between the call and the mark is fine."""
        account = ReceiverAccount.objects.filter(provider=self.code, account=receiver.account).first()
        if account is not None and account.registered_at is not None:
            return
        body = {
            "appid": self.config.appid,
            "type": receiver_type(receiver.account),
            "account": receiver.account,
            "relation_type": RELATION_TYPES.get(receiver.kind, "PARTNER"),
        }
        headers = {}
        if account is not None and account.name:
            platform_key = load_platform_key(self.config.platform_cert_path)
            body["name"] = oaep_encrypt(platform_key, account.name)
            headers["Wechatpay-Serial"] = self.config.platform_serial
        self._post(RECEIVER_ADD, body, headers=headers)
        if account is not None:
            ReceiverAccount.objects.filter(pk=account.pk, registered_at__isnull=True).update(
                registered_at=timezone.now()
            )

    def _post(self, path: str, payload: dict, *, headers: dict[str, str] | None = None) -> dict:
        """One signed request. Raises ProviderUnavailable (retry later, same ids) or _Refused."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        timestamp = str(int(time.time()))
        nonce = secrets.token_hex(16)
        signature = rsa_sign(
            load_private_key(self.config.private_key_path), signed_text("POST", path, timestamp, nonce, body)
        )
        authorization = (
            f'{SCHEMA} mchid="{self.config.mchid}",nonce_str="{nonce}",signature="{signature}",'
            f'timestamp="{timestamp}",serial_no="{self.config.serial_no}"'
        )
        request = urllib.request.Request(
            self.config.base_url + path,
            data=body.encode(),
            method="POST",
            headers={
                "Authorization": authorization,
                "Accept": "application/json",
                "Content-Type": "application/json",
                "User-Agent": "shequn-marketplace",
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - configured URL
                status, answer_headers, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, answer_headers, raw = error.code, error.headers, error.read()
        except (urllib.error.URLError, OSError) as exc:
            raise ProviderUnavailable(f"WeChat Pay {path}: {type(exc).__name__}: {exc}") from exc
        if 200 <= status < 300:
            self._verify_answer(path, answer_headers, raw)
            return json.loads(raw) if raw else {}
        try:
            error = json.loads(raw)
            code, message = str(error.get("code", "")), str(error.get("message", ""))
        except ValueError:
            code, message = "", raw[:200].decode(errors="replace")
        logger.warning("WeChat Pay %s answered %s %s: %s", path, status, code, message)
        # 5xx, rate limits and our own signing problems (401: keys being rotated or misconfigured)
        # are retried with the same ids; other 4xx answers are final.
        if status >= 500 or status in (401, 429) or code in RETRYABLE_CODES:
            raise ProviderUnavailable(f"WeChat Pay {path}: HTTP {status} {code} {message}")
        raise _Refused(code or f"HTTP {status}", message)

    def _verify_answer(self, path: str, headers, raw: bytes) -> None:
        """A 2xx answer must be signed by the platform key: anything else is not WeChat Pay."""
        timestamp = headers.get("Wechatpay-Timestamp", "")
        nonce = headers.get("Wechatpay-Nonce", "")
        signature = headers.get("Wechatpay-Signature", "")
        serial = headers.get("Wechatpay-Serial", "")
        platform_key = load_platform_key(self.config.platform_cert_path)
        if (
            serial != self.config.platform_serial
            or not timestamp
            or not rsa_verify(platform_key, signed_text(timestamp, nonce, raw.decode(errors="replace")), signature)
        ):
            raise ProviderUnavailable(f"WeChat Pay {path}: the answer's signature does not verify")


def _split_order_result(answer: dict) -> ProviderResult:
    """A profit-sharing order: PROCESSING is pending; FINISHED succeeded unless a receiver's
    part was closed (refused for good, with WeChat Pay's reason)."""
    reference = str(answer.get("order_id", ""))
    if answer.get("state") != "FINISHED":
        return ProviderResult(status=CallResult.PENDING, provider_reference=reference, raw=answer)
    closed = [receiver for receiver in answer.get("receivers", []) if receiver.get("result") == "CLOSED"]
    if closed:
        detail = "; ".join(f"{receiver.get('account')}: {receiver.get('fail_reason', '')}" for receiver in closed)
        return ProviderResult(status=CallResult.FAILED, provider_reference=reference, detail=detail, raw=answer)
    return ProviderResult(status=CallResult.SUCCEEDED, provider_reference=reference, raw=answer)
