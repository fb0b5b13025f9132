"""{% shop_coupons shop %}: the shop page's claimable coupons with their claim buttons.

The shop page belongs to the catalog, which cannot import orders (DESIGN.md section 2); the
template loads this library instead. Visitors (whose page may come from the page cache) see a
link to sign in; signed-in buyers (never served from the cache) see a claim button, or that
they already have the coupon."""

from django import template
from django.utils import timezone

from orders.coupon_selectors import coupons_claimable_for_shop

register = template.Library()


@register.inclusion_tag("orders/_shop_coupons.html", takes_context=True)
def shop_coupons(context, shop) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "shop": shop,
        "coupons": coupons_claimable_for_shop(vendor=shop, user=user, now=timezone.now()),
        "signed_in": bool(user and user.is_authenticated),
        "csrf_token": context.get("csrf_token"),
    }
