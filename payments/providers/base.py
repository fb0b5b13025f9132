"""The one interface every payment provider implements.

The marketplace never holds the buyer's money itself (DESIGN.md section 4, no "二清"): a licensed
provider collects it, and later receives split instructions (vendor share, platform commission)
and payout orders. `refund`, `split` and `payout` are therefore part of the interface now, so the
split-payments work plugs real providers in without changing the callers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from payments.models import Payment


@dataclass(frozen=True)
class StartResult:
    """Where to send the buyer, and the provider's id for the payment."""

    redirect_url: str
    provider_reference: str


@dataclass(frozen=True)
class Notification:
    """A verified server-to-server message from the provider."""

    SUCCEEDED: ClassVar[str] = "succeeded"
    FAILED: ClassVar[str] = "failed"
    OTHER: ClassVar[str] = "other"

    event_id: str
    event_type: str
    payment_reference: str
    provider_reference: str
    amount: Decimal
    currency: str
    status: str  # SUCCEEDED, FAILED or OTHER (an event we store but do not act on)
    payload: dict = field(default_factory=dict)
    # "payment": about a buyer's payment (payment_reference = Payment.reference);
    # "call": the outcome of one of our outgoing calls (payment_reference = ProviderCall.external_id).
    subject: str = "payment"


@dataclass(frozen=True)
class Capabilities:
    can_refund: bool = False
    can_split: bool = False  # routes parts of a capture to receivers' own accounts (profit sharing)
    can_payout: bool = False
    # Takes money from the platform into a payment before its split (WeChat Pay's e-commerce
    # 补差, subsidies/create), so platform coupons reach the shop inside the split.
    can_subsidize: bool = False
    # The provider releases money it holds frozen for splitting on its own after this many days
    # (WeChat Pay 180, Alipay 30, PayPal delayed disbursement ~28); None: nothing is frozen.
    freeze_days: int | None = None
    fee_rate: Decimal = Decimal("0")  # the provider's fee on each capture


@dataclass(frozen=True)
class Receiver:
    """One receiver of a split: its account at the provider and its amount."""

    account: str  # the provider's id of the receiving party (sub-merchant, openid, e-mail...)
    kind: str  # "vendor" | "platform" | "referrer"
    amount: Decimal
    description: str = ""


class CallResult:
    """What the provider said to an outgoing call."""

    SUCCEEDED = "succeeded"  # done
    PENDING = "pending"  # accepted; the outcome comes later by notification or query
    FAILED = "failed"  # refused for good (a retry cannot change the answer)


@dataclass(frozen=True)
class ProviderResult:
    status: str  # a CallResult value
    provider_reference: str = ""
    detail: str = ""
    raw: dict = field(default_factory=dict)


class ProviderUnavailable(Exception):
    """Network error, timeout or 5xx: the worker retries the same call (same external id) later."""


@dataclass(frozen=True)
class ProviderRecord:
    """One movement in the provider's own books, for reconciliation."""

    reference: str  # our payment reference or the call's external id
    kind: str  # "capture" | "refund" | "split" | "split_return" | "payout"
    amount: Decimal
    currency: str
    provider_reference: str = ""


class PaymentProvider:
    """Subclass and register in payments.providers.PROVIDER_CLASSES.

    Every outgoing call receives `external_id`: our stable id for that call (the ProviderCall's),
    identical on every retry, sent as the provider's idempotency key (PayPal-Request-Id,
    out_order_no, out_refund_no...). Calls raise ProviderUnavailable for a retryable failure and
    return ProviderResult(FAILED) for a final refusal."""

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities()

    def start(self, payment: Payment, *, return_url: str, notify_url: str) -> StartResult:
        """Open the provider's side of the payment; return where the buyer must go to pay."""
        raise NotImplementedError

    def verify_notification(self, *, headers: Mapping[str, str], body: bytes) -> Notification:
        """Authenticate a webhook over its raw body; raise PaymentError when it is not genuine."""
        raise NotImplementedError

    def refund(self, payment: Payment, *, external_id: str, amount: Decimal, reason: str) -> ProviderResult:
        raise NotImplementedError(f"The {self.code} provider cannot refund.")

    def split(self, payment: Payment, *, external_id: str, receivers: list[Receiver]) -> ProviderResult:
        raise NotImplementedError(f"The {self.code} provider cannot split captures.")

    def split_return(
        self, payment: Payment, *, external_id: str, split_external_id: str, receiver: Receiver
    ) -> ProviderResult:
        raise NotImplementedError(f"The {self.code} provider cannot return split shares.")

    def subsidy(self, payment: Payment, *, external_id: str, amount: Decimal) -> ProviderResult:
        """Adds `amount` of the platform's own money to the payment's unsplit money (补差)."""
        raise NotImplementedError(f"The {self.code} provider cannot take a platform subsidy.")

    def split_finish(self, payment: Payment, *, external_id: str) -> ProviderResult:
        """Ends splitting for the payment and unfreezes what is left (WeChat 解冻剩余资金)."""
        raise NotImplementedError(f"The {self.code} provider has nothing to unfreeze.")

    def payout(self, *, external_id: str, receiver_account: str, amount: Decimal, currency: str) -> ProviderResult:
        raise NotImplementedError(f"The {self.code} provider cannot pay out.")

    def records(self, *, day) -> list[ProviderRecord]:
        """The provider's movements on that day (its statement), for reconciliation."""
        raise NotImplementedError(f"The {self.code} provider has no statement to reconcile.")
