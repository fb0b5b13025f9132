"""Kernel-level hooks for the few facts that must flow right-to-left in the app graph
(DESIGN.md section 2), e.g. vendors telling the catalog that a shop was suspended.
Apps to the right register a receiver in their AppConfig.ready(); the sender calls emit()
inside its transaction and receivers decide themselves what to defer to on_commit."""

from collections import defaultdict
from collections.abc import Callable

_receivers: dict[str, list[Callable[..., None]]] = defaultdict(list)

VENDOR_VISIBILITY_CHANGED = "vendor_visibility_changed"
# orders -> payments: a return request was accepted (by the shop or the platform) and its money
# must go back to the buyer. kwargs: return_request, actor. The receiver creates the Refund.
RETURN_REFUND_APPROVED = "return_refund_approved"


def register(event: str, receiver: Callable[..., None]) -> None:
    if receiver not in _receivers[event]:
        _receivers[event].append(receiver)


def emit(event: str, **kwargs) -> None:
    for receiver in _receivers[event]:
        receiver(**kwargs)
