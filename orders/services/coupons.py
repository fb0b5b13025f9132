"""Coupons: which ones a buyer may use, how much each takes off, how that is shared across the
order's lines, and their limits, which hold under any concurrency.

The rules, in one place:
- A coupon is usable while active, from valid_from (inclusive) to valid_until (exclusive), on an
  order in its currency.
- Its eligible lines: a shop coupon's shop's lines, a platform coupon's lines of every shop;
  narrowed, when the coupon lists products or categories, to the lines whose product is listed
  or whose category lies under a listed category (a category covers its descendants).
- At most one shop coupon per shop and one platform coupon per order. Shop coupons apply first;
  the platform coupon applies to what the buyer still pays after them, so a line never goes
  below zero and each coupon's funder is known per line.
- Minimum spend: what the eligible lines cost before this coupon (for a platform coupon, after
  the shop coupons) must reach min_spend. Shipping never counts and is never discounted.
- Amount: fixed = the value, at most the eligible amount; percent = eligible × value / 100
  rounded half-up to the minor unit, at most max_discount and the eligible amount.
- Allocation: largest remainder over the eligible lines' amounts, in line order (shop, then
  cart line: the order in which order_place writes the order lines).
- Limits: a use is taken by `UPDATE ... SET used_count = used_count + 1 WHERE total_limit IS
  NULL OR used_count < total_limit` in the order's transaction; that UPDATE also holds the
  coupon's row lock until commit, so the buyer's count read right after it is exact (another
  order of the same buyer for this coupon waits on that lock). An expired or cancelled order
  gives its uses back (released_at) once.

Codes are stored in capitals and matched case-insensitively. A coupon without a code is used
through the buyer's claim: its token is "claim:<coupon id>" (see coupon_tokens_parse).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TypedDict

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.cache import catalog_changed
from catalog.models import Category, Product
from marketplace.errors import DomainError, NotFound
from marketplace.models import User
from marketplace.money import MAX_AMOUNT, allocate_largest_remainder, exponent, format_money, quantize
from marketplace.services import audit_record
from orders.models import Coupon, CouponClaim, CouponRedemption
from orders.services import sql
from vendors.models import Vendor

CLAIM_PREFIX = "claim:"
MAX_COUPONS_PER_ORDER = 10
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,31}$")
_TOKEN_SPLIT = re.compile(r"[\s,，;；]+")


# --- Errors: the message text lives here, once ----------------------------------------------
class CouponError(DomainError):
    """A coupon the buyer named cannot be used. `coupon` is what the buyer typed (or the
    coupon's code or name), so a form can show the error next to it."""

    code = "coupon_invalid"
    default_message = _("The coupon {coupon} cannot be used.")

    def __init__(self, *, coupon: str, **params):
        self.coupon = coupon
        super().__init__(coupon=coupon, **params)


class CouponUnknown(CouponError):
    code = "coupon_unknown"
    default_message = _("There is no coupon {coupon}.")


class CouponInactive(CouponError):
    code = "coupon_inactive"
    default_message = _("The coupon {coupon} is no longer offered.")


class CouponNotStarted(CouponError):
    code = "coupon_not_started"
    default_message = _("The coupon {coupon} can be used from {start}.")


class CouponExpired(CouponError):
    code = "coupon_expired"
    default_message = _("The coupon {coupon} expired on {end}.")


class CouponWrongCurrency(CouponError):
    code = "coupon_currency"
    default_message = _("The coupon {coupon} is for orders in {currency}.")


class CouponNotEligible(CouponError):
    code = "coupon_not_eligible"
    default_message = _("The coupon {coupon} does not apply to any item in your order.")


class CouponMinSpendNotReached(CouponError):
    code = "coupon_min_spend"
    default_message = _("The coupon {coupon} needs {min_spend} of eligible items; you have {spend}.")


class CouponLimitReached(CouponError):
    code = "coupon_limit_reached"
    http_status = 409
    default_message = _("The coupon {coupon} has been used up.")


class CouponBuyerLimitReached(CouponError):
    code = "coupon_buyer_limit_reached"
    http_status = 409
    default_message = _("You have already used the coupon {coupon} as often as it allows.")


class CouponConflict(CouponError):
    code = "coupon_conflict"
    default_message = _(
        "The coupon {coupon} cannot be combined with {other}: one coupon per shop and one platform coupon per order."
    )


class TooManyCoupons(CouponError):
    code = "coupon_too_many"
    default_message = _("At most {maximum} coupons per order.")


class CouponAlreadyClaimed(CouponError):
    code = "coupon_already_claimed"
    http_status = 409
    default_message = _("You already have the coupon {coupon}.")


class CouponInvalid(DomainError):
    """Bad coupon data from a shop. `field` names the form field it belongs to."""

    code = "invalid"
    default_message = "{reason}"

    def __init__(self, reason: str, *, field: str | None = None):
        self.field = field
        super().__init__(reason=reason)


# --- Reading what the buyer named ---------------------------------------------------------
def coupon_tokens_parse(raw: Iterable[str] | str | None) -> list[str]:
    """The coupons a buyer named: codes (typed in any case, separated by spaces or commas) and
    claimed coupons ("claim:<id>"), normalised, without repeats, in the order given.
    TooManyCoupons past MAX_COUPONS_PER_ORDER."""
    if raw is None:
        return []
    parts = [raw] if isinstance(raw, str) else list(raw)
    tokens: list[str] = []
    for part in parts:
        for piece in _TOKEN_SPLIT.split(str(part)):
            if not piece:
                continue
            if piece.lower().startswith(CLAIM_PREFIX):
                token = CLAIM_PREFIX + piece[len(CLAIM_PREFIX) :]
            else:
                token = piece.upper()[:64]
            if token not in tokens:
                tokens.append(token)
    if len(tokens) > MAX_COUPONS_PER_ORDER:
        raise TooManyCoupons(coupon=tokens[MAX_COUPONS_PER_ORDER], maximum=MAX_COUPONS_PER_ORDER)
    return tokens


def claim_token(coupon: Coupon) -> str:
    return f"{CLAIM_PREFIX}{coupon.pk}"


def coupon_label(coupon: Coupon) -> str:
    return coupon.code or coupon.name


def coupons_lookup(*, tokens: list[str], buyer_id: int | None) -> dict[str, Coupon | None]:
    """Each token's coupon, or None when it names nothing (a claim token counts only if this
    buyer claimed the coupon), with the coupons' scope loaded (`scope_product_ids`,
    `scope_category_paths`). Three queries at most."""
    codes = [token for token in tokens if not token.startswith(CLAIM_PREFIX)]
    claim_ids: dict[str, int] = {}
    for token in tokens:
        number = token[len(CLAIM_PREFIX) :] if token.startswith(CLAIM_PREFIX) else ""
        if number.isascii() and number.isdigit() and len(number) <= 18:
            claim_ids[token] = int(number)
    condition = Q(code__in=codes)
    if claim_ids and buyer_id is not None:
        claimed = CouponClaim.objects.filter(coupon_id=OuterRef("pk"), user_id=buyer_id)
        condition |= Q(pk__in=list(claim_ids.values())) & Exists(claimed)
    found = list(Coupon.objects.filter(condition).select_related("vendor")) if codes or claim_ids else []
    by_code = {coupon.code: coupon for coupon in found if coupon.code}
    by_id = {coupon.pk: coupon for coupon in found}
    _scopes_load(found)
    return {token: by_id.get(claim_ids[token]) if token in claim_ids else by_code.get(token) for token in tokens}


def coupons_find(*, tokens: list[str], buyer_id: int | None) -> list[Coupon]:
    """The coupons these tokens name, each once, in the order named, with their scope loaded.
    CouponUnknown for the first token that names nothing."""
    if not tokens:
        return []
    coupons: list[Coupon] = []
    for token, coupon in coupons_lookup(tokens=tokens, buyer_id=buyer_id).items():
        if coupon is None:
            raise CouponUnknown(coupon=token)
        if all(coupon.pk != other.pk for other in coupons):
            coupons.append(coupon)
    return coupons


def _scopes_load(coupons: list[Coupon]) -> None:
    ids = [coupon.pk for coupon in coupons]
    if not ids:
        return
    products: dict[int, set[int]] = {pk: set() for pk in ids}
    paths: dict[int, list[str]] = {pk: [] for pk in ids}
    for coupon_id, product_id in Coupon.products.through.objects.filter(coupon_id__in=ids).values_list(
        "coupon_id", "product_id"
    ):
        products[coupon_id].add(product_id)
    for coupon_id, path in Coupon.categories.through.objects.filter(coupon_id__in=ids).values_list(
        "coupon_id", "category__path"
    ):
        paths[coupon_id].append(path)
    for coupon in coupons:
        coupon.scope_product_ids = products[coupon.pk]
        coupon.scope_category_paths = paths[coupon.pk]


def coupons_need_categories(coupons: list[Coupon]) -> bool:
    return any(coupon.scope_category_paths for coupon in coupons)


def product_category_paths(product_ids: Iterable[int]) -> dict[int, str]:
    """Each product's category path, for coupons scoped to categories (one query)."""
    return dict(Product.objects.filter(pk__in=set(product_ids)).values_list("pk", "category__path"))


# --- The pure rules -------------------------------------------------------------------------
@dataclass
class CouponLine:
    """A line as the coupon rules see it. `key` identifies it to the caller (the cart line id)."""

    key: int
    vendor_id: int
    product_id: int
    total: Decimal
    category_path: str = ""


@dataclass
class AppliedCoupon:
    coupon: Coupon
    amount: Decimal
    shares: dict[int, Decimal]  # line key -> the part of `amount` allocated to that line

    @property
    def label(self) -> str:
        return coupon_label(self.coupon)

    @property
    def is_platform(self) -> bool:
        return self.coupon.funder == Coupon.Funder.PLATFORM


@dataclass
class CouponOutcome:
    currency: str
    applied: list[AppliedCoupon] = field(default_factory=list)
    shop_discounts: dict[int, Decimal] = field(default_factory=dict)
    platform_discounts: dict[int, Decimal] = field(default_factory=dict)

    def shop_discount(self, key: int) -> Decimal:
        return self.shop_discounts.get(key, quantize(0, self.currency))

    def platform_discount(self, key: int) -> Decimal:
        return self.platform_discounts.get(key, quantize(0, self.currency))

    @property
    def total(self) -> Decimal:
        return quantize(sum((applied.amount for applied in self.applied), Decimal(0)), self.currency)


def _when(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def coupon_check_usable(
    coupon: Coupon, *, currency: str, now: datetime, buyer_uses: dict[int, int] | None = None
) -> None:
    """Everything about the coupon itself (not the lines): active, in its validity period, in
    the order's currency, not used up (as last read: the redemption re-checks under the lock),
    and, when the buyer's uses are given, within the buyer's limit."""
    label = coupon_label(coupon)
    if not coupon.is_active:
        raise CouponInactive(coupon=label)
    if now < coupon.valid_from:
        raise CouponNotStarted(coupon=label, start=_when(coupon.valid_from))
    if now >= coupon.valid_until:
        raise CouponExpired(coupon=label, end=_when(coupon.valid_until))
    if coupon.currency != currency:
        raise CouponWrongCurrency(coupon=label, currency=coupon.currency)
    if coupon.total_limit is not None and coupon.used_count >= coupon.total_limit:
        raise CouponLimitReached(coupon=label)
    if buyer_uses is not None and buyer_uses.get(coupon.pk, 0) >= coupon.per_buyer_limit:
        raise CouponBuyerLimitReached(coupon=label)


def coupon_line_is_eligible(coupon: Coupon, line: CouponLine) -> bool:
    if coupon.funder == Coupon.Funder.SHOP and line.vendor_id != coupon.vendor_id:
        return False
    products: set[int] = getattr(coupon, "scope_product_ids", set())
    paths: list[str] = getattr(coupon, "scope_category_paths", [])
    if not products and not paths:
        return True
    if line.product_id in products:
        return True
    return any(path and line.category_path.startswith(path) for path in paths)


def coupon_discount_compute(*, coupon: Coupon, eligible_amount: Decimal, currency: str) -> Decimal:
    """What the coupon takes off an eligible amount: never more than that amount."""
    if coupon.kind == Coupon.Kind.FIXED:
        amount = quantize(coupon.value, currency)
    else:
        amount = quantize(eligible_amount * coupon.value / Decimal(100), currency)
        if coupon.max_discount is not None:
            amount = min(amount, quantize(coupon.max_discount, currency))
    return min(amount, quantize(eligible_amount, currency))


def coupons_conflicts_check(coupons: list[Coupon]) -> None:
    """One shop coupon per shop, one platform coupon per order."""
    per_shop: dict[int, Coupon] = {}
    platform: Coupon | None = None
    for coupon in coupons:
        if coupon.funder == Coupon.Funder.PLATFORM:
            if platform is not None:
                raise CouponConflict(coupon=coupon_label(coupon), other=coupon_label(platform))
            platform = coupon
        else:
            other = per_shop.get(coupon.vendor_id)
            if other is not None:
                raise CouponConflict(coupon=coupon_label(coupon), other=coupon_label(other))
            per_shop[coupon.vendor_id] = coupon


def coupons_apply(
    *,
    coupons: list[Coupon],
    lines: list[CouponLine],
    currency: str,
    now: datetime,
    buyer_uses: dict[int, int] | None = None,
) -> CouponOutcome:
    """Applies the coupons to the lines (no database access): validates each, computes its
    amount and allocates it across its eligible lines. Raises the first CouponError."""
    outcome = CouponOutcome(currency=currency)
    if not coupons:
        return outcome
    coupons_conflicts_check(coupons)
    ordered = sorted(lines, key=lambda line: (line.vendor_id, line.key))
    zero = quantize(0, currency)
    outcome.shop_discounts = {line.key: zero for line in ordered}
    outcome.platform_discounts = {line.key: zero for line in ordered}
    # Shop coupons first (their lines never overlap), then the platform coupon on what is left.
    for coupon in sorted(coupons, key=lambda c: c.funder != Coupon.Funder.SHOP):
        coupon_check_usable(coupon, currency=currency, now=now, buyer_uses=buyer_uses)
        label = coupon_label(coupon)
        eligible = [line for line in ordered if coupon_line_is_eligible(coupon, line)]
        bases = [
            line.total - outcome.shop_discounts[line.key] - outcome.platform_discounts[line.key] for line in eligible
        ]
        spend = quantize(sum(bases, Decimal(0)), currency)
        if not eligible or spend <= 0:
            raise CouponNotEligible(coupon=label)
        if spend < coupon.min_spend:
            raise CouponMinSpendNotReached(
                coupon=label,
                min_spend=format_money(coupon.min_spend, currency),
                spend=format_money(spend, currency),
            )
        amount = coupon_discount_compute(coupon=coupon, eligible_amount=spend, currency=currency)
        shares = allocate_largest_remainder(amount, bases, currency)
        target = outcome.shop_discounts if coupon.funder == Coupon.Funder.SHOP else outcome.platform_discounts
        for line, share in zip(eligible, shares, strict=True):
            target[line.key] += share
        outcome.applied.append(
            AppliedCoupon(
                coupon=coupon,
                amount=amount,
                shares={line.key: share for line, share in zip(eligible, shares, strict=True)},
            )
        )
    return outcome


@dataclass
class CouponPreview:
    """What the checkout page shows: the outcome of the coupons that apply, the tokens of those
    coupons, and an error for each one the buyer named that does not apply."""

    outcome: CouponOutcome
    tokens: list[str]
    errors: list[CouponError]


def coupons_preview(
    *,
    raw_tokens: Iterable[str] | str | None,
    buyer_id: int | None,
    lines: list[CouponLine],
    currency: str,
    now: datetime,
) -> CouponPreview:
    """The checkout page's view of the buyer's coupons: each one that cannot be used is left
    out, with its error, and the others are applied. A read: placing the order re-checks all."""
    errors: list[CouponError] = []
    try:
        tokens = coupon_tokens_parse(raw_tokens)
    except CouponError as error:
        return CouponPreview(outcome=CouponOutcome(currency=currency), tokens=[], errors=[error])
    found: list[tuple[str, Coupon]] = []
    for token, coupon in coupons_lookup(tokens=tokens, buyer_id=buyer_id).items():
        if coupon is None:
            errors.append(CouponUnknown(coupon=token))
        elif all(coupon.pk != other.pk for _token, other in found):
            found.append((token, coupon))
    if found and coupons_need_categories([coupon for _token, coupon in found]):
        paths = product_category_paths(line.product_id for line in lines)
        for line in lines:
            line.category_path = paths.get(line.product_id, "")
    buyer_uses = coupon_buyer_uses(coupon_ids=[coupon.pk for _token, coupon in found], buyer_id=buyer_id)
    while True:
        try:
            outcome = coupons_apply(
                coupons=[coupon for _token, coupon in found],
                lines=lines,
                currency=currency,
                now=now,
                buyer_uses=buyer_uses,
            )
            return CouponPreview(outcome=outcome, tokens=[token for token, _coupon in found], errors=errors)
        except CouponError as error:
            errors.append(error)
            # Leave out the coupon the error names (for a conflict, the later one) and try again.
            index = next(
                (i for i, (_t, coupon) in enumerate(found) if coupon_label(coupon) == error.coupon), len(found) - 1
            )
            found.pop(index)


def coupon_buyer_uses(*, coupon_ids: list[int], buyer_id: int | None) -> dict[int, int]:
    """How many orders not released the buyer has with each of these coupons (one query)."""
    if not coupon_ids or buyer_id is None:
        return {}
    uses: dict[int, int] = {}
    for coupon_id in CouponRedemption.objects.filter(
        coupon_id__in=coupon_ids, buyer_id=buyer_id, released_at__isnull=True
    ).values_list("coupon_id", flat=True):
        uses[coupon_id] = uses.get(coupon_id, 0) + 1
    return uses


# --- Redemption and release (inside the order's transactions) -------------------------------
def _use_take_statement() -> str:
    meta = Coupon._meta
    table, pk = sql.qn(meta.db_table), sql.qn(meta.pk.column)
    used, limit = sql.qn(meta.get_field("used_count").column), sql.qn(meta.get_field("total_limit").column)
    active = sql.qn(meta.get_field("is_active").column)
    return (
        f"UPDATE {table} SET {used} = {used} + 1 WHERE {pk} = %s AND {active} = %s"
        f" AND ({limit} IS NULL OR {used} < {limit})"
    )


def _buyer_uses_statement() -> str:
    meta = CouponRedemption._meta
    return "SELECT COUNT(*) FROM {} WHERE {} = %s AND {} = %s AND {} IS NULL".format(
        sql.qn(meta.db_table),
        sql.qn(meta.get_field("coupon").column),
        sql.qn(meta.get_field("buyer").column),
        sql.qn(meta.get_field("released_at").column),
    )


def coupons_redeem(*, outcome: CouponOutcome, order_id: int, buyer_id: int, now: datetime) -> None:
    """Takes one use of each applied coupon for the order. Not an entry point: runs inside
    order_place's transaction, before the stock is reserved (lock order: coupons in id order,
    then variants, then products; a release takes them in the same order).

    The conditional UPDATE never lets used_count pass total_limit, and it holds the coupon's
    row lock until commit, so the count of the buyer's uses that follows it sees every other
    committed order of this buyer with this coupon. Raises CouponLimitReached or
    CouponBuyerLimitReached (the caller's transaction then rolls everything back)."""
    if not outcome.applied:
        return
    take = sql.statement(("coupon_use_take",), _use_take_statement)
    count = sql.statement(("coupon_buyer_uses",), _buyer_uses_statement)
    for applied in sorted(outcome.applied, key=lambda applied: applied.coupon.pk):
        coupon = applied.coupon
        if sql.execute(take, [coupon.pk, True]) != 1:
            raise CouponLimitReached(coupon=coupon_label(coupon))
        with connection.cursor() as cursor:
            cursor.execute(count, [coupon.pk, buyer_id])
            (uses,) = cursor.fetchone()
        if uses >= coupon.per_buyer_limit:
            raise CouponBuyerLimitReached(coupon=coupon_label(coupon))
    sql.rows_insert(
        CouponRedemption,
        [
            {
                "coupon_id": applied.coupon.pk,
                "order_id": order_id,
                "buyer_id": buyer_id,
                "amount": applied.amount,
                "released_at": None,
                "created_at": now,
            }
            for applied in outcome.applied
        ],
    )


def order_coupons_release(*, order_id: int, now: datetime) -> list[int]:
    """Gives back the uses of an order's coupons and marks its redemptions released. Not an
    entry point: call it inside the transaction whose conditional UPDATE cancelled the order
    (so it runs once), before the stock is returned (the lock order of placing: coupons, then
    variants). Returns the ids of the coupons given back."""
    coupon_ids = sorted(
        CouponRedemption.objects.filter(order_id=order_id, released_at__isnull=True).values_list("coupon_id", flat=True)
    )
    if not coupon_ids:
        return []
    CouponRedemption.objects.filter(order_id=order_id, released_at__isnull=True).update(released_at=now)
    for coupon_id in coupon_ids:
        Coupon.objects.filter(pk=coupon_id, used_count__gt=0).update(used_count=F("used_count") - 1)
    return coupon_ids


# --- Claims from the shop page --------------------------------------------------------------
def coupon_claim(*, coupon_id: object, user: User, now: datetime | None = None) -> CouponClaim:
    """The buyer takes a claimable shop coupon into their wallet, once. NotFound for anything
    not claimable now (unknown, inactive, ended, platform coupons, suspended shops);
    CouponLimitReached when it is used up; CouponAlreadyClaimed the second time. Audited."""
    now = now or timezone.now()
    text = str(coupon_id).strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise NotFound(gettext("Coupon not found."))
    with transaction.atomic():
        coupon = Coupon.objects.filter(
            pk=int(text),
            claimable=True,
            is_active=True,
            funder=Coupon.Funder.SHOP,
            valid_until__gt=now,
            vendor__status=Vendor.Status.ACTIVE,
        ).first()
        if coupon is None:
            raise NotFound(gettext("Coupon not found."))
        if coupon.total_limit is not None and coupon.used_count >= coupon.total_limit:
            raise CouponLimitReached(coupon=coupon_label(coupon))
        try:
            with transaction.atomic():
                claim = CouponClaim.objects.create(coupon=coupon, user=user)
        except IntegrityError:
            raise CouponAlreadyClaimed(coupon=coupon_label(coupon)) from None
        audit_record(actor=user, action="coupon.claimed", obj=coupon, data={"vendor_id": coupon.vendor_id})
    return claim


# --- Shops keeping their coupons ------------------------------------------------------------
class CouponData(TypedDict, total=False):
    name: str
    code: str
    kind: str
    value: Decimal
    max_discount: Decimal | None
    min_spend: Decimal
    valid_from: datetime
    valid_until: datetime
    total_limit: int | None
    per_buyer_limit: int
    claimable: bool
    products: list[Product]
    categories: list[Category]


def coupon_code_clean(raw: str | None) -> str | None:
    """A code in capitals (3-32 letters, digits, - or _), or None for a claim-only coupon."""
    code = (raw or "").strip().upper()
    if not code:
        return None
    if not CODE_PATTERN.match(code):
        raise CouponInvalid(
            gettext("A code has 3 to 32 letters, digits, hyphens or underscores, starting with a letter or digit."),
            field="code",
        )
    return code


def _amount(raw: object, *, currency: str, field_name: str) -> Decimal:
    if isinstance(raw, float):
        raise CouponInvalid(gettext("Enter an amount."), field=field_name)
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        raise CouponInvalid(gettext("Enter an amount."), field=field_name) from None
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT:
        raise CouponInvalid(gettext("Enter an amount between 0 and %(max)s.") % {"max": MAX_AMOUNT}, field=field_name)
    if value != quantize(value, currency):
        raise CouponInvalid(
            gettext("%(currency)s amounts have at most %(n)d decimals.")
            % {"currency": currency, "n": exponent(currency)},
            field=field_name,
        )
    return value


def _coupon_fields_apply(*, coupon: Coupon, data: CouponData) -> None:
    name = (data.get("name") or "").strip()
    if not name:
        raise CouponInvalid(gettext("Give the coupon a name buyers will see."), field="name")
    coupon.name = name[:120]
    coupon.code = coupon_code_clean(data.get("code"))
    if coupon.code and Coupon.objects.filter(code=coupon.code).exclude(pk=coupon.pk).exists():
        raise CouponInvalid(gettext("The code %(code)s is already taken.") % {"code": coupon.code}, field="code")
    kind = data.get("kind")
    if kind not in Coupon.Kind.values:
        raise CouponInvalid(gettext("Choose a fixed amount or a percentage."), field="kind")
    coupon.kind = kind
    currency = coupon.currency
    if kind == Coupon.Kind.PERCENT:
        value = _amount(data.get("value"), currency="CNY", field_name="value")  # two decimals
        if not Decimal(0) < value <= Decimal(100):
            raise CouponInvalid(gettext("A percentage is more than 0 and at most 100."), field="value")
        maximum = data.get("max_discount")
        coupon.max_discount = (
            None if maximum in (None, "") else _amount(maximum, currency=currency, field_name="max_discount")
        )
        if coupon.max_discount is not None and coupon.max_discount <= 0:
            raise CouponInvalid(gettext("Leave the largest discount empty or give an amount."), field="max_discount")
    else:
        value = _amount(data.get("value"), currency=currency, field_name="value")
        if value <= 0:
            raise CouponInvalid(gettext("A coupon takes off more than nothing."), field="value")
        coupon.max_discount = None
    coupon.value = value
    coupon.min_spend = _amount(data.get("min_spend") or 0, currency=currency, field_name="min_spend")
    valid_from, valid_until = data.get("valid_from"), data.get("valid_until")
    if not isinstance(valid_from, datetime) or not isinstance(valid_until, datetime):
        raise CouponInvalid(gettext("Give the validity period."), field="valid_from")
    if valid_until <= valid_from:
        raise CouponInvalid(gettext("The coupon must end after it starts."), field="valid_until")
    coupon.valid_from, coupon.valid_until = valid_from, valid_until
    total_limit = data.get("total_limit")
    if total_limit is not None and (not isinstance(total_limit, int) or total_limit < 1):
        raise CouponInvalid(gettext("Leave the total uses empty or give at least 1."), field="total_limit")
    coupon.total_limit = total_limit
    per_buyer = data.get("per_buyer_limit") or 1
    if not isinstance(per_buyer, int) or per_buyer < 1:
        raise CouponInvalid(gettext("Each buyer may use it at least once."), field="per_buyer_limit")
    coupon.per_buyer_limit = per_buyer
    coupon.claimable = bool(data.get("claimable"))
    if not coupon.code and not coupon.claimable:
        raise CouponInvalid(gettext("Give the coupon a code, or let buyers claim it from the shop page."), field="code")


@transaction.atomic
def coupon_create(*, vendor: Vendor, actor: User, data: CouponData) -> Coupon:
    """A new active shop coupon, funded by the shop, in the shop's currency; its products must
    be the shop's own. Audited; the (cached) shop page shows it after commit."""
    coupon = Coupon(funder=Coupon.Funder.SHOP, vendor=vendor, currency=vendor.currency, is_active=True)
    _coupon_fields_apply(coupon=coupon, data=data)
    products = list(data.get("products") or [])
    if any(product.vendor_id != vendor.pk for product in products):
        raise CouponInvalid(gettext("Choose products of your own shop."), field="products")
    try:
        with transaction.atomic():
            coupon.save()
    except IntegrityError:
        raise CouponInvalid(
            gettext("The code %(code)s is already taken.") % {"code": coupon.code}, field="code"
        ) from None
    coupon.products.set(products)
    coupon.categories.set(list(data.get("categories") or []))
    audit_record(
        actor=actor,
        action="coupon.created",
        obj=coupon,
        data={"vendor_id": vendor.pk, "code": coupon.code, "kind": coupon.kind, "value": str(coupon.value)},
    )
    catalog_changed()
    return coupon


@transaction.atomic
def coupon_deactivate(*, coupon: Coupon, actor: User) -> bool:
    """Stops the coupon being claimed or used from now on (orders already placed keep their
    discount). Idempotent: False when it was already inactive. Audited."""
    changed = Coupon.objects.filter(pk=coupon.pk, is_active=True).update(is_active=False)
    coupon.is_active = False
    if changed:
        audit_record(actor=actor, action="coupon.deactivated", obj=coupon, data={"vendor_id": coupon.vendor_id})
        catalog_changed()
    return bool(changed)
