"""Reads of coupons: a shop page's claimable coupons, and a shop's own coupons in its
dashboard. A shop's coupon is fetched only through coupon_get_for_vendor, so another shop's id
is "not found" like a missing one. (The checkout's reads are in orders.selectors.)"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.fields import BooleanField
from django.utils.translation import gettext

from marketplace.errors import NotFound
from marketplace.models import User
from orders.models import Coupon, CouponClaim
from vendors.models import Vendor


def coupons_claimable_for_shop(*, vendor: Vendor, user: User | None, now: datetime) -> list[Coupon]:
    """The shop's coupons a buyer may claim now (active, not ended, not used up), soonest
    ending first, each with `claimed` for this user (False for visitors). One query."""
    claimed = (
        Exists(CouponClaim.objects.filter(coupon_id=OuterRef("pk"), user_id=user.pk))
        if user is not None and user.is_authenticated
        else Value(False, output_field=BooleanField())
    )
    return list(
        Coupon.objects.filter(
            vendor=vendor, funder=Coupon.Funder.SHOP, claimable=True, is_active=True, valid_until__gt=now
        )
        .filter(Q(total_limit__isnull=True) | Q(used_count__lt=F("total_limit")))
        .annotate(claimed=claimed)
        .order_by("valid_until", "id")[:20]
    )


def coupon_list_for_vendor(*, vendor: Vendor) -> QuerySet[Coupon]:
    """The shop's own coupons, newest first (active and not)."""
    return Coupon.objects.filter(vendor=vendor, funder=Coupon.Funder.SHOP).order_by("-created_at", "-id")


def coupon_get_for_vendor(*, vendor: Vendor, coupon_id: object) -> Coupon:
    """One of the shop's own coupons; NotFound for anything else."""
    text = str(coupon_id).strip()
    coupon = None
    if text.isascii() and text.isdigit() and len(text) <= 18:
        coupon = Coupon.objects.filter(vendor=vendor, funder=Coupon.Funder.SHOP, pk=int(text)).first()
    if coupon is None:
        raise NotFound(gettext("Coupon not found."))
    return coupon
