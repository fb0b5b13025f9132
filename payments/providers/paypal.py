"""PayPal Checkout (Orders v2) through PayPal's own Server SDK (`paypal-server-sdk`).

The flow, for international buyers:
1. `start` creates a PayPal order (intent CAPTURE, one purchase unit for the whole Order, its
   custom_id and invoice_id = our Payment.reference) and sends the buyer to its payer-action link.
2. The buyer approves at PayPal and comes back to payments:return, where
   `payments.services.collection.payment_return_from_provider` calls `capture_order` (outside any
   transaction) and feeds the result to payment_capture / payment_fail.
3. PayPal's webhooks (PAYMENT.CAPTURE.*) arrive afterwards and are verified by asking PayPal
   (POST /v1/notifications/verify-webhook-signature); they change nothing the capture already did.
4. `refund` refunds a capture (POST /v2/payments/captures/{id}/refund), `records` reads the
   Transaction Search API for reconciliation.

Every POST carries a PayPal-Request-Id that is the same on every retry (PayPal answers a repeated
id with the first result, so a retry after a lost response never captures or refunds twice). The
access token is cached in Django's cache until shortly before it expires.

Plain PayPal cannot split: the captured money sits in the platform's own PayPal account, so the
operator must pay vendors out through a licensed split provider (docs/payments.md, PAYMENTS.md
section 1); the ledger is the same either way.

The SDK covers OAuth, Orders, Payments and Transaction Search; it has no webhook verification,
so that one call goes through `requests` (the SDK's own HTTP library) with the same token.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import requests
from apimatic_core.exceptions.auth_validation_exception import AuthValidationException
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext
from paypalserversdk.configuration import Configuration, Server
from paypalserversdk.exceptions.api_exception import ApiException
from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials, OAuth2
from paypalserversdk.models.amount_with_breakdown import AmountWithBreakdown
from paypalserversdk.models.checkout_payment_intent import CheckoutPaymentIntent
from paypalserversdk.models.money import Money
from paypalserversdk.models.o_auth_token import OAuthToken
from paypalserversdk.models.order_request import OrderRequest
from paypalserversdk.models.payment_source import PaymentSource
from paypalserversdk.models.paypal_wallet import PaypalWallet
from paypalserversdk.models.paypal_wallet_experience_context import PaypalWalletExperienceContext
from paypalserversdk.models.purchase_unit_request import PurchaseUnitRequest
from paypalserversdk.models.refund_request import RefundRequest
from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient

from marketplace.errors import PaymentError
from marketplace.money import InvalidAmount, parse_amount, quantize
from payments.providers.base import (
    CallResult,
    Capabilities,
    Notification,
    PaymentProvider,
    ProviderRecord,
    ProviderResult,
    ProviderUnavailable,
    StartResult,
)

if TYPE_CHECKING:
    from payments.models import Payment

logger = logging.getLogger(__name__)

# Transient failures (5xx, 408, 429, timeouts) are retried in place by the HTTP client, with the
# same PayPal-Request-Id; past that the caller gets ProviderUnavailable and retries later.
MAX_RETRIES = 2
BACKOFF_FACTOR = 0.2
RETRY_STATUSES = [408, 429, 500, 502, 503, 504]
# A cached access token is dropped this long before PayPal's own expiry.
TOKEN_SAFETY_SECONDS = 60

TRANSMISSION_HEADERS = {
    "auth_algo": "paypal-auth-algo",
    "cert_url": "paypal-cert-url",
    "transmission_id": "paypal-transmission-id",
    "transmission_sig": "paypal-transmission-sig",
    "transmission_time": "paypal-transmission-time",
}
CAPTURE_SUCCEEDED_EVENTS = {"PAYMENT.CAPTURE.COMPLETED"}
CAPTURE_FAILED_EVENTS = {"PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED"}
REFUND_EVENTS = {"PAYMENT.CAPTURE.REFUNDED"}
CAPTURE_STATUSES = {"COMPLETED": Notification.SUCCEEDED, "DECLINED": Notification.FAILED, "FAILED": Notification.FAILED}
REFUND_STATUSES = {"COMPLETED": CallResult.SUCCEEDED, "PENDING": CallResult.PENDING}
# Transaction Search event codes: T00xx are payments received, T11xx refunds and reversals.
RECORD_KINDS = {"T00": "capture", "T11": "refund"}


class VerificationUnavailable(PaymentError):
    """PayPal could not be asked whether a webhook is genuine: answer 503 so PayPal delivers it again."""

    code = "provider_unavailable"
    http_status = 503


class PayPalRefusal(Exception):
    """A final 4xx answer from PayPal (a retry with the same request cannot change it)."""

    def __init__(self, status: int, body: dict):
        self.status = status
        self.body = body
        details = body.get("details") or [{}]
        self.issue = str(details[0].get("issue") or body.get("name") or f"HTTP_{status}")
        super().__init__(f"PayPal refused ({status}): {self.issue}")


class _Configuration(Configuration):
    """The SDK knows only PayPal's two hosts; the base URL comes from settings (tests: the fake)."""

    def __init__(self, *, base_url: str, **kwargs: Any):
        self._base_url = base_url.rstrip("/")
        super().__init__(**kwargs)

    def get_base_uri(self, server: Server = Server.DEFAULT) -> str:
        return self._base_url


def _json(text: str | None) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _money(amount: Decimal, currency: str) -> str:
    return str(quantize(amount, currency))


class _PayPalCapabilities:
    """Read on the class or an instance; the fee rate is the operator's setting (PAYPAL_FEE_RATE).
    Plain PayPal refunds, but cannot split a capture nor pay receivers out."""

    def __get__(self, instance: object, owner: type) -> Capabilities:
        return Capabilities(can_refund=True, can_split=False, can_payout=False, fee_rate=settings.PAYPAL_FEE_RATE)


class PayPalProvider(PaymentProvider):
    code = "paypal"
    name = "PayPal"
    capabilities = _PayPalCapabilities()  # type: ignore[assignment]

    def __init__(self) -> None:
        self.base_url = settings.PAYPAL_BASE_URL.rstrip("/")
        self._sdk: PaypalServersdkClient | None = None

    # --- Plumbing: the SDK client, the cached token, error mapping -------------------------

    @property
    def token_cache_key(self) -> str:
        digest = hashlib.sha256(f"{self.base_url}|{settings.PAYPAL_CLIENT_ID}".encode()).hexdigest()[:24]
        return f"payments:paypal:token:{digest}"

    def _token(self, last_token: OAuthToken | None, auth: OAuth2) -> OAuthToken:
        """The SDK's token provider: Django's cache first (shared by every process), else PayPal."""
        cached = cache.get(self.token_cache_key)
        if cached:
            return OAuthToken.from_dictionary(cached)
        token = auth.fetch_token()
        expires_in = int(getattr(token, "expires_in", 0) or 0)
        if expires_in > TOKEN_SAFETY_SECONDS:
            cache.set(
                self.token_cache_key,
                {
                    "access_token": token.access_token,
                    "token_type": token.token_type,
                    "expires_in": expires_in,
                    "expiry": getattr(token, "expiry", None),
                },
                timeout=expires_in - TOKEN_SAFETY_SECONDS,
            )
        return token

    @property
    def sdk(self) -> PaypalServersdkClient:
        if self._sdk is None:
            self._sdk = PaypalServersdkClient(
                config=_Configuration(
                    base_url=self.base_url,
                    timeout=settings.PAYPAL_TIMEOUT_SECONDS,
                    max_retries=MAX_RETRIES,
                    backoff_factor=BACKOFF_FACTOR,
                    retry_statuses=RETRY_STATUSES,
                    # Safe because every POST we make carries a PayPal-Request-Id.
                    retry_methods=["GET", "POST"],
                    client_credentials_auth_credentials=ClientCredentialsAuthCredentials(
                        o_auth_client_id=settings.PAYPAL_CLIENT_ID,
                        o_auth_client_secret=settings.PAYPAL_CLIENT_SECRET,
                        o_auth_token_provider=self._token,
                    ),
                )
            )
        return self._sdk

    def _call(self, what: str, call: Callable[[], Any]) -> dict:
        """Runs one SDK call and returns PayPal's JSON answer. ProviderUnavailable for anything a
        later retry may fix (network, timeout, 5xx, 429, an expired or refused token);
        PayPalRefusal for a final 4xx."""
        try:
            response = call()
        except ApiException as exc:
            status = exc.response_code
            body = _json(getattr(exc.response, "text", ""))
            if status == 401:
                cache.delete(self.token_cache_key)  # revoked or expired early: fetch a new one next time
            if status >= 500 or status in (401, 408, 429):
                logger.warning("PayPal %s failed with HTTP %s: %s", what, status, body.get("name", ""))
                raise ProviderUnavailable(f"PayPal {what}: HTTP {status}") from exc
            raise PayPalRefusal(status, body) from exc
        except (requests.RequestException, AuthValidationException) as exc:
            logger.warning("PayPal %s failed: %s", what, exc)
            raise ProviderUnavailable(f"PayPal {what}: {type(exc).__name__}") from exc
        return _json(response.text)

    def _access_token(self) -> str:
        """For the one call the SDK lacks (webhook verification)."""
        try:
            return self._token(None, self.sdk.oauth_2).access_token
        except ApiException as exc:
            raise ProviderUnavailable(f"PayPal token: HTTP {exc.response_code}") from exc
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"PayPal token: {type(exc).__name__}") from exc

    # --- Collecting a payment ----------------------------------------------------------------

    def start(self, payment: Payment, *, return_url: str, notify_url: str) -> StartResult:
        """Creates the PayPal order; the buyer approves it at the payer-action link. The cancel
        URL is the return URL marked ?cancelled=1, so a cancelled order is never captured."""
        cancel_url = return_url + ("&" if "?" in return_url else "?") + "cancelled=1"
        body = OrderRequest(
            intent=CheckoutPaymentIntent.CAPTURE,
            purchase_units=[
                PurchaseUnitRequest(
                    reference_id=payment.reference,
                    custom_id=payment.reference,
                    invoice_id=payment.reference,
                    description=f"Order {payment.order.number}"[:127],
                    amount=AmountWithBreakdown(
                        currency_code=payment.currency, value=_money(payment.amount, payment.currency)
                    ),
                )
            ],
            payment_source=PaymentSource(
                paypal=PaypalWallet(
                    experience_context=PaypalWalletExperienceContext(
                        brand_name="Shequn",
                        shipping_preference="NO_SHIPPING",  # the shops ship to the address of our order
                        user_action="PAY_NOW",
                        return_url=return_url,
                        cancel_url=cancel_url,
                    )
                )
            ),
        )
        order = self._call(
            "create order",
            lambda: self.sdk.orders.create_order(
                {"body": body, "paypal_request_id": f"create-{payment.reference}", "prefer": "return=minimal"}
            ),
        )
        links = {link.get("rel"): link.get("href") for link in order.get("links", [])}
        redirect_url = links.get("payer-action") or links.get("approve")
        if not order.get("id") or not redirect_url:
            raise ProviderUnavailable(f"PayPal created order {order.get('id')!r} without an approval link")
        return StartResult(redirect_url=redirect_url, provider_reference=order["id"])

    def capture_order(self, payment: Payment) -> Notification:
        """Captures the order the buyer approved (payment.provider_reference is its id). The same
        PayPal-Request-Id on every try, so a retry after a lost answer gets the first capture.

        Returns a Notification: SUCCEEDED (capture COMPLETED), FAILED (capture declined, or the
        order refused: not approved, instrument declined) or OTHER (capture PENDING at PayPal: its
        webhook tells the outcome later). Raises ProviderUnavailable when PayPal cannot answer."""
        order_id = payment.provider_reference
        try:
            order = self._call(
                "capture",
                lambda: self.sdk.orders.capture_order(
                    {
                        "id": order_id,
                        "paypal_request_id": f"capture-{payment.reference}",
                        "prefer": "return=representation",
                    }
                ),
            )
        except PayPalRefusal as refusal:
            if refusal.issue != "ORDER_ALREADY_CAPTURED":
                logger.info("PayPal refused to capture %s for %s: %s", order_id, payment.reference, refusal.issue)
                return Notification(
                    event_id=f"capture:{order_id}:{refusal.issue.lower()}"[:128],
                    event_type=f"CAPTURE.{refusal.issue}"[:60],
                    payment_reference=payment.reference,
                    provider_reference=order_id,
                    amount=payment.amount,
                    currency=payment.currency,
                    status=Notification.FAILED,
                    payload={"failure_reason": f"PayPal: {refusal.issue}", "paypal": refusal.body},
                )
            # Captured by an earlier try whose request id PayPal no longer remembers.
            order = self._call("get order", lambda: self.sdk.orders.get_order({"id": order_id}))
        captures = [
            capture
            for unit in order.get("purchase_units", [])
            for capture in unit.get("payments", {}).get("captures", [])
        ]
        if not captures:
            raise ProviderUnavailable(f"PayPal order {order_id} has no capture yet")
        capture = captures[0]
        status = str(capture.get("status", ""))
        return self._capture_notification(
            capture,
            event_id=f"capture:{capture.get('id', '')}",
            event_type=f"CAPTURE.{status}",
            status=CAPTURE_STATUSES.get(status, Notification.OTHER),
            fallback_reference=payment.reference,
        )

    # --- Webhooks ----------------------------------------------------------------------------

    def verify_notification(self, *, headers: Mapping[str, str], body: bytes) -> Notification:
        """Asks PayPal whether the webhook is genuine (its transmission headers, our webhook id and
        the event); anything but SUCCESS is refused with PaymentError and nothing is stored."""
        lowered = {key.lower(): value for key, value in headers.items()}
        transmission = {field: lowered.get(header, "") for field, header in TRANSMISSION_HEADERS.items()}
        if not all(transmission.values()):
            raise PaymentError(gettext("Missing signature headers."))
        try:
            event = json.loads(body)
        except ValueError:
            raise PaymentError(gettext("Malformed notification body.")) from None
        if not isinstance(event, dict):
            raise PaymentError(gettext("Malformed notification body."))
        try:
            response = requests.post(
                f"{self.base_url}/v1/notifications/verify-webhook-signature",
                json={**transmission, "webhook_id": settings.PAYPAL_WEBHOOK_ID, "webhook_event": event},
                headers={"Authorization": f"Bearer {self._access_token()}", "Accept": "application/json"},
                timeout=settings.PAYPAL_TIMEOUT_SECONDS,
            )
        except (requests.RequestException, ProviderUnavailable) as exc:
            logger.warning("PayPal webhook verification unreachable: %s", exc)
            raise VerificationUnavailable(gettext("The notification cannot be verified right now.")) from exc
        if response.status_code == 401:
            cache.delete(self.token_cache_key)
        if response.status_code >= 500 or response.status_code in (401, 429):
            raise VerificationUnavailable(gettext("The notification cannot be verified right now."))
        if _json(response.text).get("verification_status") != "SUCCESS":
            raise PaymentError(gettext("Invalid signature."))
        return self._event_notification(event)

    def _event_notification(self, event: dict) -> Notification:
        event_id = str(event.get("id") or "")
        event_type = str(event.get("event_type") or "")[:60]
        resource = event.get("resource")
        if not event_id or len(event_id) > 128 or not isinstance(resource, dict):
            raise PaymentError(gettext("Malformed notification body."))
        if event_type in CAPTURE_SUCCEEDED_EVENTS | CAPTURE_FAILED_EVENTS:
            status = Notification.SUCCEEDED if event_type in CAPTURE_SUCCEEDED_EVENTS else Notification.FAILED
            return self._capture_notification(
                resource, event_id=event_id, event_type=event_type, status=status, payload=event
            )
        if event_type in REFUND_EVENTS:
            # The resource is the refund; its invoice_id is the external id our refund call sent.
            amount, currency = self._amount(resource)
            return Notification(
                event_id=event_id,
                event_type=event_type,
                payment_reference=str(resource.get("invoice_id") or resource.get("custom_id") or ""),
                provider_reference=str(resource.get("id") or ""),
                amount=amount,
                currency=currency,
                status=Notification.SUCCEEDED if resource.get("status") == "COMPLETED" else Notification.OTHER,
                payload=event,
                subject="call",
            )
        # Stored, not acted on (PAYMENT.CAPTURE.PENDING, CHECKOUT.ORDER.APPROVED...).
        units = resource.get("purchase_units") or [{}]
        reference = resource.get("custom_id") or resource.get("invoice_id") or units[0].get("custom_id") or ""
        return Notification(
            event_id=event_id,
            event_type=event_type,
            payment_reference=str(reference),
            provider_reference=str(resource.get("id") or ""),
            amount=Decimal("0"),
            currency="",
            status=Notification.OTHER,
            payload=event,
        )

    def _capture_notification(
        self,
        capture: dict,
        *,
        event_id: str,
        event_type: str,
        status: str,
        payload: dict | None = None,
        fallback_reference: str = "",
    ) -> Notification:
        amount, currency = self._amount(capture)
        return Notification(
            event_id=event_id[:128],
            event_type=event_type[:60],
            payment_reference=str(capture.get("custom_id") or capture.get("invoice_id") or fallback_reference),
            provider_reference=str(capture.get("id") or ""),
            amount=amount,
            currency=currency,
            status=status,
            payload=payload if payload is not None else {"capture": capture},
        )

    @staticmethod
    def _amount(resource: dict) -> tuple[Decimal, str]:
        money = resource.get("amount") or {}
        currency = str(money.get("currency_code") or "")
        try:
            return parse_amount(money.get("value", "0"), currency or "CNY"), currency
        except InvalidAmount:
            raise PaymentError(gettext("Malformed notification body.")) from None

    # --- Refunds and reconciliation ----------------------------------------------------------

    def refund(self, payment: Payment, *, external_id: str, amount: Decimal, reason: str) -> ProviderResult:
        """Refunds part or all of the payment's capture (payment.provider_reference after capture).
        external_id is the PayPal-Request-Id and the refund's invoice_id, so a retry returns the
        same refund and the PAYMENT.CAPTURE.REFUNDED webhook names our call."""
        body = RefundRequest(
            amount=Money(currency_code=payment.currency, value=_money(amount, payment.currency)),
            invoice_id=external_id,
            custom_id=external_id,
            note_to_payer=(reason or "Refund")[:255],
        )
        try:
            refund = self._call(
                "refund",
                lambda: self.sdk.payments.refund_captured_payment(
                    {
                        "capture_id": payment.provider_reference,
                        "body": body,
                        "paypal_request_id": external_id,
                        "prefer": "return=representation",
                    }
                ),
            )
        except PayPalRefusal as refusal:
            return ProviderResult(status=CallResult.FAILED, detail=f"PayPal: {refusal.issue}", raw=refusal.body)
        status = str(refund.get("status", ""))
        return ProviderResult(
            status=REFUND_STATUSES.get(status, CallResult.FAILED),
            provider_reference=str(refund.get("id", "")),
            detail=f"PayPal refund {status}",
            raw=refund,
        )

    def records(self, *, day: date) -> list[ProviderRecord]:
        """Captures and refunds on that day (in the site's time zone), from PayPal's Transaction
        Search API. PayPal lists a transaction up to three hours after it happens: reconcile a
        day once it is well over."""
        start = timezone.make_aware(datetime.combine(day, time.min))
        end = start + timedelta(days=1) - timedelta(seconds=1)
        records: list[ProviderRecord] = []
        page, pages = 1, 1
        while page <= pages:
            answer = self._call(
                "transaction search",
                lambda page=page: self.sdk.transaction_search.search_transactions(
                    {
                        "start_date": start.isoformat(timespec="seconds"),
                        "end_date": end.isoformat(timespec="seconds"),
                        "fields": "transaction_info",
                        "page_size": 500,
                        "page": page,
                    }
                ),
            )
            pages = int(answer.get("total_pages") or 1)
            for detail in answer.get("transaction_details", []):
                info = detail.get("transaction_info", {})
                kind = RECORD_KINDS.get(str(info.get("transaction_event_code", ""))[:3])
                money = info.get("transaction_amount") or {}
                if kind is None or not money:
                    continue
                currency = str(money.get("currency_code", ""))
                records.append(
                    ProviderRecord(
                        reference=str(info.get("invoice_id") or info.get("custom_field") or ""),
                        kind=kind,
                        amount=abs(quantize(Decimal(str(money.get("value", "0"))), currency)),
                        currency=currency,
                        provider_reference=str(info.get("transaction_id", "")),
                    )
                )
            page += 1
        return records
