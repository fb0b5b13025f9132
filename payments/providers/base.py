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


@dataclass(frozen=True)
class Capabilities:
    can_refund: bool = False
    can_split: bool = False
    can_payout: bool = False


@dataclass(frozen=True)
class SplitInstruction:
    """One part of a capture the provider must route: to a vendor, the platform or a referrer."""

    recipient: str  # the provider's account id of the receiving party
    kind: str  # "vendor" | "platform_commission" | "referral_commission"
    amount: Decimal
    currency: str
    reference: str  # our idempotency key for this part


@dataclass(frozen=True)
class RefundResult:
    provider_reference: str
    status: str


@dataclass(frozen=True)
class PayoutResult:
    provider_reference: str
    status: str


class PaymentProvider:
    """Subclass and register in payments.providers.PROVIDER_CLASSES."""

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities()

    def start(self, payment: Payment, *, return_url: str, notify_url: str) -> StartResult:
        """Open the provider's side of the payment; return where the buyer must go to pay."""
        raise NotImplementedError

    def verify_notification(self, *, headers: Mapping[str, str], body: bytes) -> Notification:
        """Authenticate a webhook over its raw body; raise PaymentError when it is not genuine."""
        raise NotImplementedError

    def refund(self, payment: Payment, *, amount: Decimal, reason: str, reference: str) -> RefundResult:
        raise NotImplementedError(
            f"The {self.code} provider cannot refund yet: refunds arrive with the split-payments work."
        )

    def split(self, payment: Payment, *, instructions: list[SplitInstruction]) -> None:
        raise NotImplementedError(
            f"The {self.code} provider cannot split captures yet: profit sharing arrives with the split-payments work."
        )

    def payout(self, *, recipient: str, amount: Decimal, currency: str, reference: str) -> PayoutResult:
        raise NotImplementedError(
            f"The {self.code} provider cannot pay out yet: payouts arrive with the split-payments work."
        )
