"""Bank transfer for large company (B2B) payments, in the UnionPay B2B style.

The buyer's company pays by an ordinary transfer from its corporate account to the collection
account of a licensed institution (the provider), never to an account of the platform (no 二清):
BANK_TRANSFER_PAYEE_* name that account. The buyer writes our reference code in the transfer
memo; the bank tells us about every credit on the collection account by a signed notification,
and admins can import the account statement (CSV) for credits the notification missed. The
credits are matched to the instruction by reference code, in parts if need be
(payments.services.bank_transfer).

Notification wire format: a JSON body, signed like the sandbox's: headers X-Bank-Timestamp
(unix seconds) and X-Bank-Signature, the hex HMAC-SHA256 of f"{timestamp}.{body}" with
settings.BANK_TRANSFER_NOTIFY_SECRET, refused outside PAYMENT_WEBHOOK_TOLERANCE_SECONDS.
- a credit: {notify_id, type: "credit" (the default), bank_txn_id, reference (the transfer
  memo), amount, currency, payer_name, payer_account, value_date (YYYY-MM-DD)};
- the outcome of one of our refunds (an outgoing transfer back to the payer): {notify_id,
  type: "refund", refund_id (our external id), bank_txn_id, amount, currency,
  status: "succeeded" | "failed", reason}.

Capabilities: refunds yes (an outgoing transfer ordered through the ProviderCall outbox and
confirmed by a later "refund" notification or by an admin); splits no: the operator routes the
payouts of bank-transfer payments through a licensed split provider, the ledger is the same.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import checks
from django.urls import reverse
from django.utils.translation import gettext

from marketplace.errors import PaymentError
from marketplace.money import InvalidAmount, parse_amount, quantize
from payments.providers.base import (
    CallResult,
    Capabilities,
    Notification,
    PaymentProvider,
    ProviderResult,
    StartResult,
)

if TYPE_CHECKING:
    from payments.models import Payment

CODE = "bank_transfer"
TIMESTAMP_HEADER = "X-Bank-Timestamp"
SIGNATURE_HEADER = "X-Bank-Signature"
EVENT_CREDIT = "credit"
EVENT_REFUND = "refund"
# Notification.subject of a credit on the collection account: it names a transfer memo, not one
# of our payments, and may cover part of an amount, so webhook_receive hands it to
# payments.services.bank_transfer instead of capturing.
SUBJECT_BANK_CREDIT = "bank_credit"


# --- Reference codes --------------------------------------------------------------------
# "SQ" + 8 random characters + 1 check character, in Crockford's base32 (no I, L, O, U: nothing
# to misread when a clerk types it into a bank's memo field). 40 random bits; the check
# character (Luhn mod 32) catches every single wrong character and most swaps of two neighbours,
# so a typo never pays someone else's order: the credit stays unmatched for an admin instead.

REFERENCE_PREFIX = "SQ"
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_RANDOM_LENGTH = 8
REFERENCE_LENGTH = len(REFERENCE_PREFIX) + REFERENCE_RANDOM_LENGTH + 1
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.:/#]+")


def _luhn_sum(characters: str, *, first_factor: int) -> int:
    base = len(REFERENCE_ALPHABET)
    total, factor = 0, first_factor
    for character in reversed(characters):
        addend = factor * REFERENCE_ALPHABET.index(character)
        total += addend // base + addend % base
        factor = 3 - factor  # 2, 1, 2, 1...
    return total


def reference_check_character(body: str) -> str:
    base = len(REFERENCE_ALPHABET)
    return REFERENCE_ALPHABET[(base - _luhn_sum(body, first_factor=2) % base) % base]


def reference_code_generate() -> str:
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_RANDOM_LENGTH))
    return REFERENCE_PREFIX + body + reference_check_character(body)


def reference_code_normalise(text: str) -> str | None:
    """The canonical code for what a person typed ("sq 4k7m-2p9q x", "SQ4K7M2P9QX"), or None
    when it is not a well-formed code with a correct check character."""
    compact = _SEPARATORS.sub("", (text or "").upper())
    if len(compact) != REFERENCE_LENGTH or not compact.startswith(REFERENCE_PREFIX):
        return None
    rest = compact[len(REFERENCE_PREFIX) :].translate(_CONFUSABLE)
    if any(character not in REFERENCE_ALPHABET for character in rest):
        return None
    if _luhn_sum(rest, first_factor=1) % len(REFERENCE_ALPHABET):
        return None
    return REFERENCE_PREFIX + rest


def reference_codes_in(memo: str) -> list[str]:
    """Every valid reference code written anywhere in a transfer memo ("Payment for SQ4K7M
    2P9QX, thanks"), in order, without repeats. Separators inside the code are tolerated."""
    compact = _SEPARATORS.sub("", (memo or "").upper())
    found: list[str] = []
    for match in re.finditer(REFERENCE_PREFIX, compact):
        code = reference_code_normalise(compact[match.start() : match.start() + REFERENCE_LENGTH])
        if code and code not in found:
            found.append(code)
    return found


def reference_code_display(code: str) -> str:
    """Grouped for reading out and typing: "SQ 4K7M 2P9Q X" (spaces do not matter when matching)."""
    return " ".join([code[:2], code[2:6], code[6:10], code[10:]])


# --- Signatures --------------------------------------------------------------------------


def sign(body: bytes | str, timestamp: int | str) -> str:
    """The signature the bank puts on a notification."""
    if isinstance(body, str):
        body = body.encode()
    message = str(timestamp).encode() + b"." + body
    return hmac.new(settings.BANK_TRANSFER_NOTIFY_SECRET.encode(), message, hashlib.sha256).hexdigest()


def _verified_payload(headers: Mapping[str, str], body: bytes) -> dict:
    lowered = {key.lower(): value for key, value in headers.items()}
    raw_timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    signature = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not raw_timestamp or not signature:
        raise PaymentError(gettext("Missing signature headers."))
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise PaymentError(gettext("Malformed signature timestamp.")) from None
    if abs(time.time() - timestamp) > settings.PAYMENT_WEBHOOK_TOLERANCE_SECONDS:
        raise PaymentError(gettext("Notification timestamp is outside the tolerance window."))
    if not settings.BANK_TRANSFER_NOTIFY_SECRET or not hmac.compare_digest(
        sign(body, timestamp), signature.strip().lower()
    ):
        raise PaymentError(gettext("Invalid signature."))
    try:
        payload = json.loads(body)
    except ValueError:
        raise PaymentError(gettext("Malformed notification body.")) from None
    if not isinstance(payload, dict):
        raise PaymentError(gettext("Malformed notification body."))
    return payload


def _text(payload: dict, key: str, *, max_length: int, required: bool = True) -> str:
    value = payload.get(key, "")
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValueError(key)
    value = str(value).strip()
    if (required and not value) or len(value) > max_length:
        raise ValueError(key)
    return value


# --- Settings ----------------------------------------------------------------------------


class _CapabilitiesFromSettings:
    """Capabilities read when asked (the fee rate is a setting, and tests change settings),
    on the class as on an instance: callers use get_provider_class(code).capabilities."""

    def __get__(self, instance, owner) -> Capabilities:
        return Capabilities(
            can_refund=True, can_split=False, can_payout=False, fee_rate=settings.BANK_TRANSFER_FEE_RATE
        )


REQUIRED_SETTINGS = (
    "BANK_TRANSFER_PAYEE_NAME",
    "BANK_TRANSFER_PAYEE_ACCOUNT",
    "BANK_TRANSFER_PAYEE_BANK",
    "BANK_TRANSFER_NOTIFY_SECRET",
)


def check_bank_transfer_settings(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Refuse to offer bank transfer without the payee account or the notification secret."""
    if CODE not in settings.PAYMENT_PROVIDERS:
        return []
    errors: list[checks.CheckMessage] = []
    missing = [name for name in REQUIRED_SETTINGS if not str(getattr(settings, name, "") or "").strip()]
    if missing:
        errors.append(
            checks.Error(
                f"PAYMENT_PROVIDERS enables bank_transfer but {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not set.",
                hint="The payee is the collection account of the licensed institution that holds the money "
                "(never the platform's own account); the secret is the one the bank signs its notifications with.",
                id="payments.E020",
            )
        )
    if settings.BANK_TRANSFER_DAYS < 1:
        errors.append(checks.Error("BANK_TRANSFER_DAYS must be at least 1.", id="payments.E021"))
    if not Decimal(0) <= settings.BANK_TRANSFER_FEE_RATE < 1:
        errors.append(checks.Error("BANK_TRANSFER_FEE_RATE must be between 0 and 1.", id="payments.E022"))
    return errors


# --- The provider ------------------------------------------------------------------------


class BankTransferProvider(PaymentProvider):
    code = CODE
    name = "Bank transfer (company account)"
    capabilities = _CapabilitiesFromSettings()

    def start(self, payment: Payment, *, return_url: str, notify_url: str) -> StartResult:
        """Opens the transfer instruction (payee, exact amount, reference code) and keeps the
        order open until it expires; the buyer is sent to the page that shows it. The bank's
        notifications go to the URL configured at the bank, not to `notify_url`."""
        from payments.services.bank_transfer import bank_transfer_instruction_open

        instruction = bank_transfer_instruction_open(payment=payment)
        return StartResult(
            redirect_url=reverse("payments:bank-transfer", args=[payment.reference]),
            provider_reference=instruction.reference_code,
        )

    def verify_notification(self, *, headers: Mapping[str, str], body: bytes) -> Notification:
        payload = _verified_payload(headers, body)
        try:
            event_type = _text(payload, "type", max_length=20, required=False) or EVENT_CREDIT
            currency = _text(payload, "currency", max_length=3)
            amount = parse_amount(payload.get("amount"), currency)
            if amount <= 0:
                raise ValueError("amount")
            common = {
                "event_id": _text(payload, "notify_id", max_length=128),
                "event_type": event_type,
                "provider_reference": _text(payload, "bank_txn_id", max_length=64),
                "amount": amount,
                "currency": currency,
                "payload": payload,
            }
            if event_type == EVENT_CREDIT:
                date.fromisoformat(_text(payload, "value_date", max_length=10))
                _text(payload, "payer_name", max_length=200, required=False)
                _text(payload, "payer_account", max_length=64, required=False)
                return Notification(
                    **common,
                    payment_reference=_text(payload, "reference", max_length=300, required=False),
                    status=Notification.SUCCEEDED,
                    subject=SUBJECT_BANK_CREDIT,
                )
            if event_type == EVENT_REFUND:
                outcome = _text(payload, "status", max_length=20)
                if outcome not in ("succeeded", "failed"):
                    raise ValueError("status")
                return Notification(
                    **common,
                    payment_reference=_text(payload, "refund_id", max_length=64),
                    status=Notification.SUCCEEDED if outcome == "succeeded" else Notification.FAILED,
                    subject="call",
                )
        except (ValueError, TypeError, InvalidAmount):
            raise PaymentError(gettext("Malformed notification body.")) from None
        raise PaymentError(gettext("Unknown notification type."))

    def refund(self, payment: Payment, *, external_id: str, amount: Decimal, reason: str) -> ProviderResult:
        """Orders an outgoing transfer of `amount` back to the account the buyer paid from (the
        latest credit matched to the payment). Nothing is paid here: the answer is PENDING and
        the bank's "refund" notification (or an admin who saw the debit on the statement)
        confirms it. Same external id on every retry: it is the transfer's memo at the bank."""
        from payments.models import BankStatementLine

        payer = (
            BankStatementLine.objects.filter(instruction__payment=payment)
            .exclude(payer_account="")
            .order_by("-value_date", "-id")
            .first()
        )
        if payer is None:
            return ProviderResult(
                status=CallResult.FAILED,
                detail="No payer account is known for this payment: refund it from the bank's console.",
            )
        transfer = {
            "type": "outgoing_transfer",
            "refund_id": external_id,
            "to_name": payer.payer_name,
            "to_account": payer.payer_account,
            "amount": str(quantize(amount, payment.currency)),
            "currency": payment.currency,
            "memo": f"Refund {external_id}",
            "reason": reason[:200],
        }
        return ProviderResult(
            status=CallResult.PENDING,
            provider_reference=external_id,
            detail="Outgoing transfer ordered; awaiting the bank's confirmation.",
            raw=transfer,
        )
