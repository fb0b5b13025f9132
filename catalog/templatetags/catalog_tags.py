"""Template helpers for catalog pages: money, safe descriptions, query strings."""

from decimal import Decimal

from django import template
from django.utils.safestring import mark_safe

from marketplace.money import format_money

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str = "CNY") -> str:
    """`{{ product.min_price|money:product.currency }}` → ¥1,299.00"""
    return format_money(amount, currency or "CNY")


@register.filter
def clean_description(html: str | None) -> str:
    """A shop's rich description, sanitised again at display time (defence in depth: rows that
    bypassed the services, e.g. imports or fixtures, are never trusted)."""
    from catalog.services.validation import description_clean

    return mark_safe(description_clean(html))  # noqa: S308 - nh3 output


@register.simple_tag(takes_context=True)
def page_url(context, number) -> str:
    """The current URL with another page number (other parameters kept)."""
    query = context["request"].GET.copy()
    query["page"] = number
    return "?" + query.urlencode()
