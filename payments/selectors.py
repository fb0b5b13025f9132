"""Reads for the payment pages and API. Buyers reach only their own orders and payments."""

from django.utils.translation import gettext

from marketplace.errors import NotFound
from marketplace.models import User
from orders.models import Order
from payments.models import BankTransferInstruction, Payment


def order_get_for_payer(*, actor: User, number: str) -> Order:
    order = Order.objects.filter(number=number, buyer_id=actor.pk).first() if actor.is_authenticated else None
    if order is None:
        raise NotFound(gettext("Order not found."))
    return order


def payment_get_for_buyer(*, actor: User, reference: str) -> Payment:
    payment = (
        Payment.objects.select_related("order").filter(reference=reference, order__buyer_id=actor.pk).first()
        if actor.is_authenticated
        else None
    )
    if payment is None:
        raise NotFound(gettext("Payment not found."))
    return payment


def bank_transfer_get_for_buyer(*, actor: User, reference: str) -> BankTransferInstruction:
    """The bank transfer instruction of one of the actor's payments (by the payment's reference)."""
    instruction = (
        BankTransferInstruction.objects.select_related("payment__order")
        .filter(payment__reference=reference, payment__order__buyer_id=actor.pk)
        .first()
        if actor.is_authenticated
        else None
    )
    if instruction is None:
        raise NotFound(gettext("Payment not found."))
    return instruction
