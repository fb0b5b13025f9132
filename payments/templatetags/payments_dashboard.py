"""The money box on the vendor dashboard's order page. orders/ may not import payments (the app
graph runs left to right), so its template loads this tag, which reads through the selector
once, and only for roles that may see the shop's money."""

from decimal import Decimal

from django import template

from payments.selectors import vendor_order_earnings
from vendors.selectors import role_allows

register = template.Library()


@register.filter
def percent(rate: Decimal | None) -> str:
    """0.0500 -> "5%", 0.0125 -> "1.25%"."""
    if rate is None:
        return ""
    value = (rate * 100).quantize(Decimal("0.01")).normalize()
    return f"{value:f}%"


@register.inclusion_tag("payments/dashboard/_order_earnings.html", takes_context=True)
def vendor_order_earnings_box(context, vendor_order) -> dict:
    member = getattr(context["request"], "vendor_member", None)
    if member is None or not role_allows(role=member.role, permission="earnings"):
        return {"earnings": None}
    return {"earnings": vendor_order_earnings(vendor_order=vendor_order)}
