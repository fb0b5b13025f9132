"""Reads for the buyer's pages and API: the cart grouped by shop, checkout options, addresses
and the buyer's own orders. Buyer data is fetched only through *_for_buyer / *_for_user helpers,
which raise NotFound for anything outside the buyer's account."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext

from catalog.models import Product, ProductVariant
from catalog.selectors import variant_orderable_qs
from marketplace.errors import NotFound
from marketplace.models import User
from marketplace.money import quantize
from orders.models import (
    Address,
    Cart,
    CartLine,
    Coupon,
    CouponClaim,
    CouponRedemption,
    Order,
    OrderEvent,
    OrderLine,
    VendorOrder,
)
from orders.services.coupons import CLAIM_PREFIX, CouponLine, CouponPreview, claim_token, coupons_preview
from vendors.models import ShippingTemplate, Vendor
from vendors.services import shipping_quote


# --- Cart ----------------------------------------------------------------------------------
@dataclass
class CartLineView:
    line: CartLine
    variant: ProductVariant
    product: Product
    unit_price: Decimal
    line_total: Decimal
    price_when_added: Decimal
    is_orderable: bool
    stock: int
    # Set by checkout_summary when coupons apply (allocated to this line).
    shop_discount: Decimal = Decimal(0)
    platform_discount: Decimal = Decimal(0)

    @property
    def id(self) -> int:
        return self.line.pk

    @property
    def discount(self) -> Decimal:
        return self.shop_discount + self.platform_discount

    @property
    def discounted_total(self) -> Decimal:
        return self.line_total - self.discount

    @property
    def quantity(self) -> int:
        return self.line.quantity

    @property
    def price_changed(self) -> bool:
        return self.unit_price != self.price_when_added

    @property
    def price_went_up(self) -> bool:
        return self.unit_price > self.price_when_added

    @property
    def has_enough_stock(self) -> bool:
        return self.line.quantity <= self.stock

    @property
    def can_order(self) -> bool:
        return self.is_orderable and self.has_enough_stock


@dataclass
class CartShopGroup:
    vendor: Vendor
    lines: list[CartLineView] = field(default_factory=list)
    currency: str = "CNY"

    @property
    def subtotal(self) -> Decimal:
        return quantize(sum((line.line_total for line in self.lines if line.is_orderable), Decimal(0)), self.currency)

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines if line.is_orderable)


@dataclass
class CartSummary:
    cart: Cart | None
    groups: list[CartShopGroup]
    currency: str

    @property
    def lines(self) -> list[CartLineView]:
        return [line for group in self.groups for line in group.lines]

    @property
    def is_empty(self) -> bool:
        return not self.groups

    @property
    def items_total(self) -> Decimal:
        return quantize(sum((group.subtotal for group in self.groups), Decimal(0)), self.currency)

    @property
    def item_count(self) -> int:
        return sum(group.item_count for group in self.groups)

    @property
    def line_count(self) -> int:
        return len(self.lines)

    @property
    def has_problems(self) -> bool:
        return any(not line.can_order for line in self.lines)

    @property
    def has_price_changes(self) -> bool:
        return any(line.price_changed for line in self.lines)


def cart_find(*, user: User | None, session_key: str | None) -> Cart | None:
    """The cart of a signed-in buyer or of this visitor's session, without creating one."""
    if user is not None and user.is_authenticated:
        return Cart.objects.filter(user=user).first()
    if session_key:
        return Cart.objects.filter(session_key=session_key, user__isnull=True).first()
    return None


def cart_lines_qs(cart: Cart) -> QuerySet[CartLine]:
    orderable = variant_orderable_qs().filter(pk=OuterRef("variant_id"))
    return (
        CartLine.objects.filter(cart=cart)
        .select_related("variant__product__vendor")
        .annotate(is_orderable=Exists(orderable))
        .order_by("variant__product__vendor__name", "variant__product__vendor_id", "added_at", "id")
    )


def cart_summary(cart: Cart | None) -> CartSummary:
    """The cart grouped by shop with subtotals, in one query whatever the number of lines.
    Lines that can no longer be ordered stay visible (flagged) but count in no total."""
    if cart is None or cart.pk is None:
        return CartSummary(cart=cart, groups=[], currency="CNY")
    groups: dict[int, CartShopGroup] = {}
    currency = None
    for line in cart_lines_qs(cart):
        variant = line.variant
        product = variant.product
        currency = currency or product.currency
        group = groups.get(product.vendor_id)
        if group is None:
            group = groups[product.vendor_id] = CartShopGroup(vendor=product.vendor, currency=product.currency)
        group.lines.append(
            CartLineView(
                line=line,
                variant=variant,
                product=product,
                unit_price=variant.price,
                line_total=quantize(variant.price * line.quantity, product.currency),
                price_when_added=line.price_when_added,
                is_orderable=line.is_orderable,
                stock=max(variant.stock, 0),
            )
        )
    return CartSummary(cart=cart, groups=list(groups.values()), currency=currency or "CNY")


# --- Checkout ------------------------------------------------------------------------------
@dataclass
class ShippingOption:
    template: ShippingTemplate
    fee: Decimal

    @property
    def id(self) -> int:
        return self.template.pk

    @property
    def name(self) -> str:
        return self.template.name


@dataclass
class CheckoutShop:
    group: CartShopGroup
    options: list[ShippingOption]
    selected: ShippingOption | None
    # True when the shop has templates but none serves the address's region.
    cannot_ship: bool = False

    @property
    def vendor(self) -> Vendor:
        return self.group.vendor

    @property
    def shipping_fee(self) -> Decimal:
        return self.selected.fee if self.selected else Decimal("0.00")

    @property
    def shop_discount(self) -> Decimal:
        return quantize(sum((line.shop_discount for line in self.group.lines), Decimal(0)), self.group.currency)

    @property
    def platform_discount(self) -> Decimal:
        return quantize(sum((line.platform_discount for line in self.group.lines), Decimal(0)), self.group.currency)

    @property
    def discount(self) -> Decimal:
        return self.shop_discount + self.platform_discount

    @property
    def total(self) -> Decimal:
        return quantize(self.group.subtotal + self.shipping_fee - self.discount, self.group.currency)


@dataclass
class CheckoutSummary:
    cart: CartSummary
    address: Address | None
    shops: list[CheckoutShop]
    coupons: CouponPreview | None = None
    # The buyer's claimed coupons that may apply to this cart: (token, coupon).
    claimed: list[tuple[str, Coupon]] = field(default_factory=list)

    @property
    def items_total(self) -> Decimal:
        return self.cart.items_total

    @property
    def shipping_total(self) -> Decimal:
        return quantize(sum((shop.shipping_fee for shop in self.shops), Decimal(0)), self.cart.currency)

    @property
    def discount_total(self) -> Decimal:
        return quantize(sum((shop.discount for shop in self.shops), Decimal(0)), self.cart.currency)

    @property
    def grand_total(self) -> Decimal:
        return quantize(self.items_total + self.shipping_total - self.discount_total, self.cart.currency)

    @property
    def applied_coupons(self) -> list:
        return self.coupons.outcome.applied if self.coupons else []

    @property
    def coupon_errors(self) -> list:
        return self.coupons.errors if self.coupons else []

    @property
    def coupon_tokens(self) -> list[str]:
        return self.coupons.tokens if self.coupons else []

    @property
    def typed_codes(self) -> str:
        """The codes to show in the code field again (claimed coupons have their own boxes)."""
        return " ".join(token for token in self.coupon_tokens if not token.startswith(CLAIM_PREFIX))

    @property
    def can_place(self) -> bool:
        return (
            self.address is not None
            and not self.cart.is_empty
            and not self.cart.has_problems
            and not any(shop.cannot_ship for shop in self.shops)
        )


def shipping_templates_for_vendors(*, vendor_ids: list[int]) -> dict[int, list[ShippingTemplate]]:
    """Active shipping templates of several shops in one query, the default first."""
    templates: dict[int, list[ShippingTemplate]] = {pk: [] for pk in vendor_ids}
    for template in ShippingTemplate.objects.filter(vendor_id__in=vendor_ids, is_active=True).order_by(
        "vendor_id", "-is_default", "id"
    ):
        templates[template.vendor_id].append(template)
    return templates


def shipping_option_quote(*, template: ShippingTemplate, group: CartShopGroup, region: str) -> Decimal | None:
    fee = shipping_quote(template=template, items_total=group.subtotal, item_count=group.item_count, region=region)
    return None if fee is None else quantize(fee, group.currency)


def checkout_summary(
    *,
    cart: CartSummary,
    address: Address | None,
    shipping_choices: dict[int, int] | None = None,
    coupon_codes: list[str] | None = None,
    buyer: User | None = None,
) -> CheckoutSummary:
    """Per shop: the shipping options that serve the address (with their fee) and the chosen
    one (the buyer's choice if offered, else the shop's default, else the cheapest). With a
    buyer: their claimed coupons that may apply, and the coupons named (codes or claims)
    applied to the lines by the same rules as placing the order, or the reason each cannot be."""
    shipping_choices = shipping_choices or {}
    templates = shipping_templates_for_vendors(vendor_ids=[group.vendor.pk for group in cart.groups])
    shops = []
    for group in cart.groups:
        options = []
        if address is not None:
            for template in templates[group.vendor.pk]:
                fee = shipping_option_quote(template=template, group=group, region=address.region)
                if fee is not None:
                    options.append(ShippingOption(template=template, fee=fee))
        chosen = shipping_choices.get(group.vendor.pk)
        selected = next((option for option in options if option.id == chosen), None)
        if selected is None and options:
            selected = next((o for o in options if o.template.is_default), None) or min(options, key=lambda o: o.fee)
        cannot_ship = address is not None and bool(templates[group.vendor.pk]) and not options
        shops.append(CheckoutShop(group=group, options=options, selected=selected, cannot_ship=cannot_ship))
    summary = CheckoutSummary(cart=cart, address=address, shops=shops)
    if buyer is not None and not cart.is_empty:
        now = timezone.now()
        summary.claimed = coupons_claimed_for_cart(buyer=buyer, cart=cart, now=now)
        if coupon_codes:
            summary.coupons = _coupons_preview(cart=cart, buyer=buyer, coupon_codes=coupon_codes, now=now)
    return summary


def _coupons_preview(*, cart: CartSummary, buyer: User, coupon_codes: list[str], now) -> CouponPreview:
    lines = [line for line in cart.lines if line.is_orderable]
    preview = coupons_preview(
        raw_tokens=coupon_codes,
        buyer_id=buyer.pk,
        lines=[
            CouponLine(key=line.id, vendor_id=line.product.vendor_id, product_id=line.product.pk, total=line.line_total)
            for line in lines
        ],
        currency=cart.currency,
        now=now,
    )
    for line in lines:
        line.shop_discount = preview.outcome.shop_discount(line.id)
        line.platform_discount = preview.outcome.platform_discount(line.id)
    return preview


def coupons_claimed_for_cart(*, buyer: User, cart: CartSummary, now) -> list[tuple[str, Coupon]]:
    """The buyer's claimed coupons of the cart's shops that are current, in the cart's
    currency and not used up by the buyer (one query)."""
    uses = (
        CouponRedemption.objects.filter(coupon_id=OuterRef("coupon_id"), buyer_id=buyer.pk, released_at__isnull=True)
        .order_by()
        .values("coupon_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    claims = (
        CouponClaim.objects.filter(
            user=buyer,
            coupon__is_active=True,
            coupon__valid_from__lte=now,
            coupon__valid_until__gt=now,
            coupon__currency=cart.currency,
            coupon__vendor_id__in=[group.vendor.pk for group in cart.groups],
        )
        .annotate(uses=Coalesce(Subquery(uses), 0))
        .filter(uses__lt=F("coupon__per_buyer_limit"))
        .select_related("coupon")
        .order_by("coupon__vendor_id", "coupon_id")
    )
    return [(claim_token(claim.coupon), claim.coupon) for claim in claims]


# --- Addresses -----------------------------------------------------------------------------
def address_list_for_user(*, user: User) -> QuerySet[Address]:
    return Address.objects.filter(user=user)


def address_get_for_user(*, user: User, address_id: object) -> Address:
    text = str(address_id).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise NotFound(gettext("Address not found."))
    address = Address.objects.filter(user=user, pk=int(text)).first()
    if address is None:
        raise NotFound(gettext("Address not found."))
    return address


# --- Orders --------------------------------------------------------------------------------
def order_payment_url(number: str) -> str:
    """Where the buyer pays an order (the payments app's hosted-payment start page)."""
    try:
        return reverse("payments:start", args=[number])
    except NoReverseMatch:
        return f"/payments/start/{number}/"


def order_list_for_buyer(*, buyer: User) -> QuerySet[Order]:
    """The buyer's orders, newest first, with each shop's part (two queries per page)."""
    return Order.objects.filter(buyer=buyer).prefetch_related(
        Prefetch("vendor_orders", queryset=VendorOrder.objects.select_related("vendor").order_by("number"))
    )


def order_get_for_buyer(*, buyer: User, number: str) -> Order:
    """The buyer's own order with its shops' parts, lines and timeline; NotFound otherwise
    (another buyer's order is indistinguishable from a missing one)."""
    order = (
        Order.objects.filter(buyer=buyer, number=str(number)[:32])
        .prefetch_related(
            Prefetch(
                "vendor_orders",
                queryset=VendorOrder.objects.select_related("vendor")
                .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
                .order_by("number"),
            ),
            Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")),
        )
        .first()
    )
    if order is None:
        raise NotFound(gettext("Order not found."))
    return order


def vendor_order_get_for_buyer(*, buyer: User, number: str) -> VendorOrder:
    vendor_order = (
        VendorOrder.objects.filter(order__buyer=buyer, number=str(number)[:40])
        .select_related("order", "vendor")
        .first()
    )
    if vendor_order is None:
        raise NotFound(gettext("Order not found."))
    return vendor_order
