"""The cart across shops: lines, quantities, price changes, merge at log-in.

A cart belongs either to a signed-in buyer (`user`) or to a visitor's session (`session_key`).
Every write locks the cart row first (an UPDATE of `updated_at`), so two tabs adding the same
variant at once add up instead of colliding on the (cart, variant) unique constraint.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from catalog.models import ProductVariant
from catalog.selectors import variant_orderable_qs
from marketplace.errors import InvalidQuantity, NotFound, OutOfStock, Unavailable
from marketplace.models import User
from orders.models import Cart, CartLine

ANONYMOUS_CART_MAX_AGE = timedelta(days=30)


def quantity_parse(raw: object) -> int:
    """A line quantity from user input: a whole number 1..CART_MAX_LINE_QUANTITY, else InvalidQuantity."""
    maximum = settings.CART_MAX_LINE_QUANTITY
    if isinstance(raw, bool) or raw is None:
        raise InvalidQuantity(maximum=maximum)
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw).strip()
        # Only plain digits: "1e3", "2.5", "-1", "½", "١" are refused rather than guessed at.
        if not text.isascii() or not text.isdigit() or len(text) > 9:
            raise InvalidQuantity(maximum=maximum)
        value = int(text)
    if value < 1 or value > maximum:
        raise InvalidQuantity(maximum=maximum)
    return value


def _variant_id_parse(raw: object) -> int:
    if isinstance(raw, bool):
        raise NotFound(gettext("Product not found."))
    text = str(raw).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise NotFound(gettext("Product not found."))
    return int(text)


def variant_get_orderable(*, variant_id: object) -> ProductVariant:
    """The variant if a buyer may order it now: NotFound for an unknown id, Unavailable for a
    hidden, banned, deactivated or suspended-shop one."""
    pk = _variant_id_parse(variant_id)
    variant = variant_orderable_qs().select_related("product").filter(pk=pk).first()
    if variant is not None:
        return variant
    unavailable = ProductVariant.objects.select_related("product").filter(pk=pk).first()
    if unavailable is None:
        raise NotFound(gettext("Product not found."))
    raise Unavailable(what=str(unavailable))


def _check_stock(variant: ProductVariant, quantity: int) -> None:
    if quantity > variant.stock:
        raise OutOfStock(sku=variant.sku, available=max(variant.stock, 0), requested=quantity)


def _lock_cart(cart: Cart) -> None:
    """Row lock on the cart for the rest of the transaction (and a fresh updated_at)."""
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())


def cart_get_or_create(*, user: User | None, session_key: str | None) -> Cart:
    """The signed-in buyer's cart, or the visitor's cart for this session key (the caller makes
    sure the session exists and has a key)."""
    if user is not None and user.is_authenticated:
        cart, _ = Cart.objects.get_or_create(user=user)
        return cart
    if not session_key:
        raise ValueError("an anonymous cart needs a session key")
    cart, _ = Cart.objects.get_or_create(session_key=session_key, defaults={"user": None})
    return cart


def _referrer_for(*, variant: ProductVariant, referrals: Mapping[int, int] | None) -> int | None:
    """Who referred the visitor to this variant's product (catalog.referrals), if that user
    still exists and is active."""
    referrer_id = (referrals or {}).get(variant.product_id)
    if referrer_id is None or not User.objects.filter(pk=referrer_id, is_active=True).exists():
        return None
    return referrer_id


@transaction.atomic
def cart_add_line(
    *, cart: Cart, variant_id: object, quantity: object, referrals: Mapping[int, int] | None = None
) -> CartLine:
    """Adds `quantity` of the variant (to the existing line if there is one). The line total
    must stay within 1..CART_MAX_LINE_QUANTITY and the stock; the price shown now is kept as
    the line's price_when_added. `referrals` ({product id: user id}, from the visitor's
    session) names who shared the product: the line keeps the latest such referrer."""
    quantity = quantity_parse(quantity)
    variant = variant_get_orderable(variant_id=variant_id)
    referrer_id = _referrer_for(variant=variant, referrals=referrals)
    _lock_cart(cart)
    line = CartLine.objects.filter(cart=cart, variant=variant).first()
    total = quantity + (line.quantity if line else 0)
    if total > settings.CART_MAX_LINE_QUANTITY:
        raise InvalidQuantity(maximum=settings.CART_MAX_LINE_QUANTITY)
    _check_stock(variant, total)
    if line is None:
        return CartLine.objects.create(
            cart=cart, variant=variant, quantity=total, price_when_added=variant.price, referrer_id=referrer_id
        )
    line.quantity = total
    line.price_when_added = variant.price
    fields = ["quantity", "price_when_added"]
    if referrer_id is not None:
        line.referrer_id = referrer_id
        fields.append("referrer")
    line.save(update_fields=fields)
    return line


def _line_get(*, cart: Cart, line_id: object) -> CartLine:
    try:
        pk = _variant_id_parse(line_id)
    except NotFound:
        raise NotFound(gettext("Cart line not found.")) from None
    line = CartLine.objects.filter(cart=cart, pk=pk).first()
    if line is None:
        raise NotFound(gettext("Cart line not found."))
    return line


@transaction.atomic
def cart_set_quantity(*, cart: Cart, line_id: object, quantity: object) -> CartLine:
    """Sets a line's quantity (1..CART_MAX_LINE_QUANTITY, at most the stock)."""
    quantity = quantity_parse(quantity)
    _lock_cart(cart)
    line = _line_get(cart=cart, line_id=line_id)
    variant = variant_get_orderable(variant_id=line.variant_id)
    _check_stock(variant, quantity)
    line.quantity = quantity
    line.save(update_fields=["quantity"])
    return line


@transaction.atomic
def cart_remove_line(*, cart: Cart, line_id: object) -> None:
    _lock_cart(cart)
    line = _line_get(cart=cart, line_id=line_id)
    line.delete()


@transaction.atomic
def cart_merge_on_login(*, user: User, session_key: str | None) -> Cart | None:
    """Moves the visitor's cart into the account: quantities of the same variant add up, capped
    by the stock and the line limit; the anonymous cart is deleted. Safe to call when there is
    no anonymous cart (returns the account's cart or None)."""
    if not session_key:
        return None
    anonymous = Cart.objects.filter(session_key=session_key, user__isnull=True).first()
    if anonymous is None:
        return None
    cart, _ = Cart.objects.get_or_create(user=user)
    _lock_cart(cart)
    incoming = list(CartLine.objects.filter(cart=anonymous).select_related("variant"))
    existing = {line.variant_id: line for line in CartLine.objects.filter(cart=cart)}
    maximum = settings.CART_MAX_LINE_QUANTITY
    to_create, to_update = [], []
    for line in incoming:
        # A line that cannot be fully bought stays (at least 1) so the cart page can say why.
        cap = max(1, min(maximum, line.variant.stock))
        current = existing.get(line.variant_id)
        if current is None:
            to_create.append(
                CartLine(
                    cart=cart,
                    variant_id=line.variant_id,
                    quantity=min(line.quantity, cap),
                    price_when_added=line.price_when_added,
                    referrer_id=line.referrer_id,
                )
            )
        else:
            current.quantity = max(current.quantity, min(current.quantity + line.quantity, cap))
            # The visitor's referral link is the more recent one.
            current.referrer_id = line.referrer_id or current.referrer_id
            to_update.append(current)
    anonymous.delete()
    CartLine.objects.bulk_create(to_create)
    if to_update:
        CartLine.objects.bulk_update(to_update, ["quantity", "referrer"])
    return cart


def carts_purge_stale(*, now: datetime) -> int:
    """Deletes visitors' carts untouched for ANONYMOUS_CART_MAX_AGE (their sessions are gone)."""
    deleted, _ = Cart.objects.filter(user__isnull=True, updated_at__lt=now - ANONYMOUS_CART_MAX_AGE).delete()
    return deleted
