"""Referral links: `/p/<slug>/?ref=<code>` remembers, in the visitor's session, who shared the
product; adding that product to the cart then records the sharer as the cart line's referrer
(orders.services.cart), and the order line keeps it (orders.services.checkout).

A code is the sharer's user id, in base 36, signed with django.core.signing (HMAC-SHA256 with
SECRET_KEY and a salt of its own), the signature cut to 16 characters (96 bits): short enough to
share, and nobody can make up a code for another user's id or change the id in one. Changing
SECRET_KEY invalidates the codes already shared (they are then ignored, never an error).
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import SessionBase
from django.core import signing
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int, int_to_base36

from marketplace.models import User

SESSION_KEY = "referrals"  # {"<product id>": <referrer user id>}, the last link followed per product
QUERY_PARAMETER = "ref"
_SIGNATURE_LENGTH = 16
_MAX_REMEMBERED = 50
_signer = signing.Signer(salt="shequn.referral", algorithm="sha256")


def referral_code_for(user: User) -> str:
    """The code to append to a product URL as ?ref= when this user shares it:
    "<user id in base 36>-<first 16 characters of the django.core.signing HMAC-SHA256 signature
    of that id, salt "shequn.referral">", e.g. "2n9c-Xh3kq0vW8bB1sLmA". Public but unforgeable:
    96 bits of signature, checked in constant time by referral_code_resolve."""
    value = int_to_base36(user.pk)
    return f"{value}-{_signer.signature(value)[:_SIGNATURE_LENGTH]}"


def referral_code_resolve(code: object) -> int | None:
    """The sharer's user id if the code is genuine, else None (forged, mangled or too long)."""
    text = str(code or "").strip()
    if len(text) > 40 or "-" not in text:
        return None
    value, _, signature = text.partition("-")
    if not value or len(value) > 13 or not value.isascii() or not value.isalnum():
        return None
    if not constant_time_compare(signature, _signer.signature(value.lower())[:_SIGNATURE_LENGTH]):
        return None
    try:
        return base36_to_int(value.lower())
    except ValueError:
        return None


def referral_remember(*, session: SessionBase, product_id: int, code: object) -> int | None:
    """Remembers a genuine code's sharer for this product in the session (the latest link
    wins); returns the sharer's id, or None when the code is not genuine or names no active
    user (nothing is remembered then). Whether the sharer is the buyer is decided when the
    order is placed: a self-referral earns nothing."""
    referrer_id = referral_code_resolve(code)
    if referrer_id is None or not User.objects.filter(pk=referrer_id, is_active=True).exists():
        return None
    remembered = dict(session.get(SESSION_KEY) or {})
    remembered.pop(str(product_id), None)
    remembered[str(product_id)] = referrer_id
    # Oldest first (insertion order): keep the session small.
    session[SESSION_KEY] = dict(list(remembered.items())[-_MAX_REMEMBERED:])
    return referrer_id


def referrals_in_session(session: SessionBase | None) -> dict[int, int]:
    """{product id: referrer user id} remembered for this visitor."""
    remembered = (session.get(SESSION_KEY) if session is not None else None) or {}
    result: dict[int, int] = {}
    for product_id, referrer_id in remembered.items():
        if str(product_id).isdigit() and isinstance(referrer_id, int):
            result[int(product_id)] = referrer_id
    return result
