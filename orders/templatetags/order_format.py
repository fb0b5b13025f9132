from decimal import Decimal

from django import template

from marketplace.money import format_money

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str = "CNY") -> str:
    """{{ amount|money:currency }}: the amount with the currency's symbol and minor unit."""
    return format_money(amount, currency or "CNY")
