"""Payments services, one module per sub-domain:

- collection: start a payment, act on verified provider notifications, capture;
- commission: the commission rule in force for a line;
- split: the split of each capture into shares, posted to the ledger;
- settlement: pending -> available after the return window, with the split instruction;
- payouts: available -> the party's own account at the provider;
- refunds: reversing splits (before settlement) or clawing back (after);
- calls: the outbox of outgoing provider calls (splits, returns, refunds, payouts);
- bank_transfer, reconciliation.
"""

from payments.services.collection import (  # noqa: F401 - the payment flow's public services
    PaymentStart,
    WebhookOutcome,
    order_check_payable,
    payment_capture,
    payment_fail,
    payment_return_from_provider,
    payment_start,
    webhook_receive,
)
