"""Placing an order: one transaction, stock reserved by conditional UPDATE; expiry and the
buyer's cancellation of unpaid orders, which return the stock exactly once.

Lock order (to stay free of deadlocks): product variants in id order, then products in id
order. Stock is reserved as the *last* writes before commit, so the hot variant's row lock is
held only for those few statements and the commit, not for the order inserts.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, transaction
from django.db.models import CharField, Exists, F, OuterRef
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from catalog.cache import products_changed
from catalog.models import Product, ProductVariant
from catalog.selectors import variant_orderable_qs
from marketplace.errors import DomainError, NotFound, OutOfStock, Unavailable
from marketplace.models import AuditEvent, User
from marketplace.money import quantize
from marketplace.services import audit_record, notification_send
from orders.models import Address, Cart, CartLine, Order, OrderEvent, OrderLine, VendorOrder
from orders.services import sql
from orders.services.coupons import (
    CouponLine,
    CouponOutcome,
    coupon_tokens_parse,
    coupons_apply,
    coupons_find,
    coupons_need_categories,
    coupons_redeem,
    order_coupons_release,
    product_category_paths,
)
from orders.transitions import check_order_transition
from vendors.models import ShippingTemplate, Vendor
from vendors.services import shipping_quote


class CartEmpty(DomainError):  # noqa: N818 - named like the kernel's errors (OutOfStock)
    code = "cart_empty"
    http_status = 400
    default_message = gettext_lazy("Your cart is empty.")


# Crockford's base32 without I, L, O, U: nothing to misread when a buyer reads a number out.
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def order_number_generate(*, now: datetime) -> str:
    """SQ + yyMMdd + 10 random base32 characters (50 bits: even at a million orders a day, a
    clash is a one-in-2,000 event, and order_place then retries with another number)."""
    day = timezone.localtime(now).strftime("%y%m%d")
    bits = int.from_bytes(secrets.token_bytes(7), "big")
    return "SQ" + day + "".join(_NUMBER_ALPHABET[(bits >> shift) & 31] for shift in range(45, -1, -5))


def shipping_choose(
    *,
    vendor_name: str,
    templates: list[ShippingTemplate],
    chosen_id: int | None,
    items_total: Decimal,
    item_count: int,
    region: str,
    currency: str,
) -> tuple[ShippingTemplate | None, Decimal]:
    """The template and fee for one shop's part. A chosen template must belong to the shop and
    serve the region; without a choice, the default if it serves the region, else the cheapest
    that does. A shop without any shipping template ships free."""
    if not templates:
        return None, quantize(0, currency)
    if chosen_id is not None:
        template = next((t for t in templates if t.pk == chosen_id), None)
        if template is None:
            raise NotFound(gettext("Shipping option not found for %(shop)s.") % {"shop": vendor_name})
        fee = shipping_quote(template=template, items_total=items_total, item_count=item_count, region=region)
        if fee is None:
            raise Unavailable(
                gettext("%(shop)s cannot deliver to %(region)s with “%(option)s”.")
                % {"shop": vendor_name, "region": region, "option": template.name}
            )
        return template, quantize(fee, currency)
    quotes = []
    for template in templates:
        fee = shipping_quote(template=template, items_total=items_total, item_count=item_count, region=region)
        if fee is not None:
            if template.is_default:
                return template, quantize(fee, currency)
            quotes.append((fee, template.pk, template))
    if not quotes:
        raise Unavailable(gettext("%(shop)s does not deliver to %(region)s.") % {"shop": vendor_name, "region": region})
    fee, _pk, template = min(quotes)
    return template, quantize(fee, currency)


def _choices_normalise(shipping_choices: dict | None) -> dict[int, int]:
    normalised: dict[int, int] = {}
    for vendor_id, template_id in (shipping_choices or {}).items():
        if template_id in (None, ""):
            continue
        try:
            normalised[int(vendor_id)] = int(template_id)
        except (TypeError, ValueError):
            raise NotFound(gettext("Shipping option not found.")) from None
    return normalised


@dataclass
class _Line:
    """A cart line as read for placing the order (plain values, no model instances)."""

    id: int
    quantity: int
    variant_id: int
    sku: str
    variant_name: str
    price: Decimal
    stock: int
    product_id: int
    title: str
    currency: str
    vendor_id: int
    vendor_name: str
    orderable: bool
    referrer_id: int | None
    referral_rate: Decimal
    total: Decimal = Decimal(0)


def _lines_read(cart_id: int) -> list[_Line]:
    """The cart's lines with current prices, stock and the catalog's orderable rule, in one
    query, grouped by shop. (Compiled once: see orders/services/sql.py.)"""
    title = sql.localized_field(Product, "title")
    vendor_name = sql.localized_field(Vendor, "name")

    def build():
        orderable = variant_orderable_qs().filter(pk=OuterRef("variant_id"))
        return (
            CartLine.objects.filter(cart_id=sql.SENTINEL)
            .annotate(
                orderable=Exists(orderable),
                price_text=Cast("variant__price", CharField()),
                referral_rate_text=Cast("variant__product__referral_rate", CharField()),
            )
            .order_by("variant__product__vendor_id", "id")
            .values_list(
                "id",
                "quantity",
                "variant_id",
                "variant__sku",
                "variant__name",
                "price_text",
                "variant__stock",
                "variant__product_id",
                "variant__product__title",
                f"variant__product__{title}",
                "variant__product__currency",
                "variant__product__vendor_id",
                "variant__product__vendor__name",
                f"variant__product__vendor__{vendor_name}",
                "orderable",
                "referrer_id",
                "referral_rate_text",
            )
        )

    lines = []
    for row in sql.compiled_run(("order_place_lines", title, vendor_name), build, cart_id):
        (line_id, quantity, variant_id, sku, name, price, stock, product_id, title_default, title_local,
         currency, vendor_id, vendor_default, vendor_local, orderable, referrer_id, referral_rate) = row  # fmt: skip
        lines.append(
            _Line(
                id=line_id,
                quantity=quantity,
                variant_id=variant_id,
                sku=sku,
                variant_name=name,
                price=sql.as_decimal(price, currency),
                stock=stock,
                product_id=product_id,
                title=(title_local or title_default)[:200],
                currency=currency,
                vendor_id=vendor_id,
                vendor_name=vendor_local or vendor_default,
                orderable=bool(orderable),
                referrer_id=referrer_id,
                referral_rate=Decimal(str(referral_rate)),
            )
        )
    return lines


_TEMPLATE_FIELDS = (
    "id",
    "vendor_id",
    "name",
    "base_fee",
    "per_item_fee",
    "free_over",
    "excluded_regions",
    "is_default",
)


def _templates_read(vendor_ids: list[int]) -> dict[int, list[ShippingTemplate]]:
    """Active shipping templates of these shops, the default first (one query, no ORM compile)."""

    def build() -> str:
        meta = ShippingTemplate._meta
        columns = [sql.qn(meta.get_field(name).column) for name in _TEMPLATE_FIELDS]
        return "SELECT {} FROM {} WHERE {} = %s AND {} IN ({}) ORDER BY {}, {} DESC, {}".format(
            ", ".join(columns),
            sql.qn(meta.db_table),
            sql.qn(meta.get_field("is_active").column),
            columns[1],
            sql.in_placeholders(vendor_ids),
            columns[1],
            columns[7],
            columns[0],
        )

    statement = sql.statement(("order_place_templates", len(vendor_ids)), build)
    templates: dict[int, list[ShippingTemplate]] = {vendor_id: [] for vendor_id in vendor_ids}
    with connection.cursor() as cursor:
        cursor.execute(statement, [True, *vendor_ids])
        for pk, vendor_id, name, base_fee, per_item_fee, free_over, excluded, is_default in cursor.fetchall():
            templates[vendor_id].append(
                ShippingTemplate(
                    id=pk,
                    vendor_id=vendor_id,
                    name=name,
                    base_fee=sql.as_decimal(base_fee),
                    per_item_fee=sql.as_decimal(per_item_fee),
                    free_over=None if free_over is None else sql.as_decimal(free_over),
                    excluded_regions=sql.as_json(excluded) or [],
                    is_default=bool(is_default),
                    is_active=True,
                )
            )
    return templates


def order_place(
    *,
    buyer: User,
    cart: Cart,
    address: Address,
    shipping_choices: dict | None = None,
    coupon_codes: list[str] | None = None,
) -> Order:
    """Turns the buyer's whole cart into one Order with one VendorOrder per shop, in one
    transaction: current prices are snapshotted on the lines, stock is reserved per variant by
    `UPDATE ... SET stock = stock - q WHERE id = v AND stock >= q` (variant-id order), and the
    ordered lines leave the cart. If any variant lacks stock, OutOfStock is raised and nothing
    is written. The order must be paid before settings.ORDER_PAYMENT_TIMEOUT_MINUTES.

    `coupon_codes` are the codes the buyer typed or the claimed coupons chosen ("claim:<id>"):
    each is checked and its amount allocated to its eligible lines (orders/services/coupons.py),
    shop coupons as the lines' shop_discount, the platform coupon as their platform_discount;
    a use of each is taken under its limits, or CouponError is raised and nothing is written.
    Each line keeps its cart line's referrer (none when that is the buyer) and the product's
    referral rate, at most settings.REFERRAL_RATE_MAX.

    This is the marketplace's hot path (a popular item sells hundreds of times a second), so
    without coupons it runs eight statements whatever the cart holds, then the stock UPDATEs
    (one statement for a one-variant cart on PostgreSQL, else one per variant and one per
    product), with as little Python per statement as it can (see orders/services/sql.py).
    Coupons add three reads, two statements per coupon and one insert."""
    if cart.user_id != buyer.pk:
        raise NotFound(gettext("Cart not found."))
    if address.user_id != buyer.pk:
        raise NotFound(gettext("Address not found."))
    choices = _choices_normalise(shipping_choices)
    tokens = coupon_tokens_parse(coupon_codes)
    for attempt in range(1, 4):
        now = timezone.now()
        number = order_number_generate(now=now)
        try:
            return _order_place(
                buyer=buyer, cart=cart, address=address, choices=choices, tokens=tokens, number=number, now=now
            )
        except IntegrityError:
            # The one unique value chosen here is the random number: on a clash, try another.
            if attempt == 3 or not Order.objects.filter(number=number).exists():
                raise
    raise AssertionError("unreachable")


def _coupons_for(*, tokens: list[str], buyer: User, lines: list[_Line], currency: str, now: datetime) -> CouponOutcome:
    """The coupons' outcome for the order's lines (keyed by cart line id)."""
    if not tokens:
        return CouponOutcome(currency=currency)
    coupons = coupons_find(tokens=tokens, buyer_id=buyer.pk)
    paths = product_category_paths(line.product_id for line in lines) if coupons_need_categories(coupons) else {}
    coupon_lines = [
        CouponLine(
            key=line.id,
            vendor_id=line.vendor_id,
            product_id=line.product_id,
            total=line.total,
            category_path=paths.get(line.product_id, ""),
        )
        for line in lines
    ]
    return coupons_apply(coupons=coupons, lines=coupon_lines, currency=currency, now=now)


def _order_place(
    *,
    buyer: User,
    cart: Cart,
    address: Address,
    choices: dict[int, int],
    tokens: list[str],
    number: str,
    now: datetime,
) -> Order:
    with transaction.atomic():
        lines = _lines_read(cart.pk)
        if not lines:
            raise CartEmpty()
        by_vendor: dict[int, list[_Line]] = defaultdict(list)
        requested: dict[int, int] = defaultdict(int)
        for line in lines:
            if not line.orderable:
                raise Unavailable(what=f"{line.title} {line.variant_name}".strip())
            requested[line.variant_id] += line.quantity
            # Early, friendly refusal; the conditional UPDATE below is what actually guarantees it.
            if requested[line.variant_id] > line.stock:
                raise OutOfStock(sku=line.sku, available=max(line.stock, 0), requested=requested[line.variant_id])
            by_vendor[line.vendor_id].append(line)
        currencies = {line.currency for line in lines}
        if len(currencies) > 1:
            raise Unavailable(gettext("Items priced in different currencies must be ordered separately."))
        currency = currencies.pop()

        templates = _templates_read(list(by_vendor))
        parts = []
        for vendor_id, vendor_lines in by_vendor.items():
            for line in vendor_lines:
                line.total = quantize(line.price * line.quantity, currency)
            part_items = quantize(sum((line.total for line in vendor_lines), Decimal(0)), currency)
            template, fee = shipping_choose(
                vendor_name=vendor_lines[0].vendor_name,
                templates=templates[vendor_id],
                chosen_id=choices.get(vendor_id),
                items_total=part_items,
                item_count=sum(line.quantity for line in vendor_lines),
                region=address.region,
                currency=currency,
            )
            parts.append((vendor_id, vendor_lines, part_items, template, fee))
        items_total = quantize(sum((part[2] for part in parts), Decimal(0)), currency)
        shipping_total = quantize(sum((part[4] for part in parts), Decimal(0)), currency)
        coupons = _coupons_for(tokens=tokens, buyer=buyer, lines=lines, currency=currency, now=now)
        zero = quantize(0, currency)
        part_discounts = [
            (
                quantize(sum((coupons.shop_discount(line.id) for line in part[1]), zero), currency),
                quantize(sum((coupons.platform_discount(line.id) for line in part[1]), zero), currency),
            )
            for part in parts
        ]
        discount_total = quantize(sum((shop + platform for shop, platform in part_discounts), zero), currency)
        rate_max = settings.REFERRAL_RATE_MAX

        order_values = {
            "number": number,
            "buyer_id": buyer.pk,
            "status": Order.Status.PENDING_PAYMENT,
            "currency": currency,
            "items_total": items_total,
            "shipping_total": shipping_total,
            "discount_total": discount_total,
            "grand_total": items_total + shipping_total - discount_total,
            "shipping_address": address.snapshot(),
            "expires_at": now + timedelta(minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES),
            "paid_at": None,
            "cancelled_at": None,
            "created_at": now,
        }
        (order_id,) = sql.rows_insert(Order, [order_values], returning=True)
        vendor_order_values = [
            {
                "order_id": order_id,
                "vendor_id": vendor_id,
                "number": f"{number}-{index}",
                "status": VendorOrder.Status.PENDING_PAYMENT,
                "currency": currency,
                "items_total": part_items,
                "shipping_total": fee,
                "shop_discount": shop_discount,
                "platform_discount": platform_discount,
                "total": part_items + fee - shop_discount - platform_discount,
                "shipping_method": template.name if template else "",
                "carrier": "",
                "tracking_number": "",
                "created_at": now,
            }
            for index, (
                (vendor_id, _lines, part_items, template, fee),
                (shop_discount, platform_discount),
            ) in enumerate(zip(parts, part_discounts, strict=True), start=1)
        ]
        vendor_order_ids = sql.rows_insert(VendorOrder, vendor_order_values, returning=True)
        sql.rows_insert(
            OrderLine,
            [
                {
                    "vendor_order_id": vendor_order_id,
                    "variant_id": line.variant_id,
                    "product_id_snapshot": line.product_id,
                    "product_title": line.title,
                    "variant_name": line.variant_name,
                    "sku": line.sku,
                    "unit_price": line.price,
                    "quantity": line.quantity,
                    "line_total": line.total,
                    "shop_discount": coupons.shop_discount(line.id),
                    "platform_discount": coupons.platform_discount(line.id),
                    # Invariant 13: nobody earns a referral on their own purchase.
                    "referrer_id": line.referrer_id if line.referrer_id != buyer.pk else None,
                    "referral_rate": min(line.referral_rate, rate_max),
                }
                for vendor_order_id, part in zip(vendor_order_ids, parts, strict=True)
                for line in part[1]
            ],
        )
        vendor_order_numbers = [values["number"] for values in vendor_order_values]
        grand_total = str(order_values["grand_total"])
        event_data = {"grand_total": grand_total, "vendor_orders": vendor_order_numbers}
        if coupons.applied:
            event_data["discount_total"] = str(discount_total)
            event_data["coupons"] = {applied.label: str(applied.amount) for applied in coupons.applied}
        sql.rows_insert(
            OrderEvent,
            [{"order_id": order_id, "vendor_order_id": None, "actor_id": buyer.pk, "type": "placed",
              "data": event_data, "created_at": now}],
        )  # fmt: skip
        # The audit row audit_record() would write, without building a model instance.
        sql.rows_insert(
            AuditEvent,
            [{"actor_id": buyer.pk, "action": "order.placed", "object_type": Order._meta.label_lower,
              "object_id": str(order_id), "data": {"grand_total": grand_total}, "created_at": now}],
        )  # fmt: skip
        sql.rows_delete(CartLine, [line.id for line in lines])
        # Coupons before stock: the lock order every release follows too.
        coupons_redeem(outcome=coupons, order_id=order_id, buyer_id=buyer.pk, now=now)
        # Last, so the hot rows stay locked only for these few statements and the commit.
        product_quantities = _stock_reserve(requested=requested, lines=lines)
        products_changed(product_ids=sorted(product_quantities))

    order = Order(id=order_id, **{name: value for name, value in order_values.items() if name != "buyer_id"})
    order.buyer = buyer
    order._state.adding, order._state.db = False, DEFAULT_DB_ALIAS
    # What the caller may show without another query.
    order.vendor_orders_placed = [
        VendorOrder(id=pk, **values) for pk, values in zip(vendor_order_ids, vendor_order_values, strict=True)
    ]
    return order


def _stock_reserve(*, requested: dict[int, int], lines: list[_Line]) -> dict[int, int]:
    """Takes the stock: the conditional UPDATE per variant in variant-id order, then each
    product's total_stock; OutOfStock if a variant lacks stock (the caller's transaction then
    rolls everything back). Returns units per product.

    Every statement here runs while holding the hot rows' locks, and each round trip also
    waits for the thread to get the GIL back, so the one-variant order (the hot item's case)
    does it in a single statement on PostgreSQL. Locks are always taken variants first, then
    products, so the two forms cannot deadlock with each other."""
    by_variant = {line.variant_id: line for line in lines}
    product_quantities: dict[int, int] = defaultdict(int)
    for variant_id, quantity in requested.items():
        product_quantities[by_variant[variant_id].product_id] += quantity
    if len(requested) == 1 and connection.vendor == "postgresql":
        ((variant_id, quantity),) = requested.items()
        statement = sql.statement(("variant_and_product_stock_take",), _stock_and_total_take_statement)
        if sql.execute(statement, [quantity, variant_id, quantity, quantity]) != 1:
            _out_of_stock(variant_id=variant_id, sku=by_variant[variant_id].sku, requested=quantity)
        return product_quantities
    statement = sql.statement(("variant_stock_take",), _stock_take_statement)
    for variant_id in sorted(requested):
        quantity = requested[variant_id]
        if sql.execute(statement, [quantity, variant_id, quantity]) != 1:
            _out_of_stock(variant_id=variant_id, sku=by_variant[variant_id].sku, requested=quantity)
    _product_stock_move(product_quantities=product_quantities, delta_sign=-1)
    return product_quantities


def _out_of_stock(*, variant_id: int, sku: str, requested: int):
    available = ProductVariant.objects.filter(pk=variant_id).values_list("stock", flat=True).first() or 0
    raise OutOfStock(sku=sku, available=max(available, 0), requested=requested)


def _stock_and_total_take_statement() -> str:
    variant, product = ProductVariant._meta, Product._meta
    stock, total = sql.qn(variant.get_field("stock").column), sql.qn(product.get_field("total_stock").column)
    return (
        f"WITH taken AS (UPDATE {sql.qn(variant.db_table)} SET {stock} = {stock} - %s"
        f" WHERE {sql.qn(variant.pk.column)} = %s AND {stock} >= %s"
        f" RETURNING {sql.qn(variant.get_field('product').column)} AS product_id)"
        f" UPDATE {sql.qn(product.db_table)} SET {total} = {total} - %s"
        f" FROM taken WHERE {sql.qn(product.db_table)}.{sql.qn(product.pk.column)} = taken.product_id"
    )


def _stock_take_statement() -> str:
    meta = ProductVariant._meta
    table, stock, pk = sql.qn(meta.db_table), sql.qn(meta.get_field("stock").column), sql.qn(meta.pk.column)
    return f"UPDATE {table} SET {stock} = {stock} - %s WHERE {pk} = %s AND {stock} >= %s"


def _product_stock_statement() -> str:
    meta = Product._meta
    table, total, pk = sql.qn(meta.db_table), sql.qn(meta.get_field("total_stock").column), sql.qn(meta.pk.column)
    return f"UPDATE {table} SET {total} = {total} + %s WHERE {pk} = %s"


def _product_stock_move(*, product_quantities: dict[int, int], delta_sign: int) -> None:
    """Keeps the product's listing total (total_stock) in step with its variants' stock. (Units
    sold are counted when the order is paid, by the fulfilment services.)"""
    statement = sql.statement(("product_total_stock_move",), _product_stock_statement)
    for product_id in sorted(product_quantities):
        sql.execute(statement, [product_quantities[product_id] * delta_sign, product_id])


def vendor_orders_release_stock(*, vendor_order_ids: list[int]) -> list[int]:
    """Returns the stock of these shop orders' lines to their variants (F() updates, variant-id
    order). Not an entry point: call it inside the transaction whose conditional status UPDATE
    moved these shop orders to cancelled, so it runs once per cancellation. Returns the ids of
    the products touched."""
    per_variant: dict[int, int] = defaultdict(int)
    per_product: dict[int, int] = defaultdict(int)
    rows = OrderLine.objects.filter(vendor_order_id__in=vendor_order_ids, variant_id__isnull=False).values_list(
        "variant_id", "product_id_snapshot", "quantity"
    )
    for variant_id, product_id, quantity in rows:
        per_variant[variant_id] += quantity
        per_product[product_id] += quantity
    for variant_id in sorted(per_variant):
        ProductVariant.objects.filter(pk=variant_id).update(stock=F("stock") + per_variant[variant_id])
    _product_stock_move(product_quantities=per_product, delta_sign=+1)
    if per_product:
        products_changed(product_ids=sorted(per_product))
    return sorted(per_product)


def _order_release(*, order: Order, actor: User | None, event_type: str, now: datetime, only_if_due: bool) -> bool:
    """pending_payment -> cancelled for the order and its shop orders, its coupons' uses given
    back and its stock returned. The conditional UPDATE on the order row is the gate: a second run (or a concurrent one, which
    waits on the row lock and then sees the new status) changes nothing and returns False."""
    order_id = order.pk
    gate = Order.objects.filter(pk=order_id, status=Order.Status.PENDING_PAYMENT)
    if only_if_due:
        gate = gate.filter(expires_at__lte=now)
    if not gate.update(status=Order.Status.CANCELLED, cancelled_at=now):
        return False
    vendor_order_ids = list(
        VendorOrder.objects.filter(order_id=order_id, status=VendorOrder.Status.PENDING_PAYMENT).values_list(
            "pk", flat=True
        )
    )
    VendorOrder.objects.filter(pk__in=vendor_order_ids, status=VendorOrder.Status.PENDING_PAYMENT).update(
        status=VendorOrder.Status.CANCELLED, cancelled_at=now
    )
    # The coupons' uses go back before the stock: placing locks coupons, then variants.
    coupon_ids = order_coupons_release(order_id=order_id, now=now)
    product_ids = vendor_orders_release_stock(vendor_order_ids=vendor_order_ids)
    data = {"stock_returned_for_products": product_ids}
    if coupon_ids:
        data["coupons_released"] = coupon_ids
    OrderEvent.objects.create(order_id=order_id, actor=actor, type=event_type, data=data)
    audit_record(actor=actor, action=f"order.{event_type}", obj=order, data={"vendor_orders": vendor_order_ids})
    return True


def order_expire(*, order: Order, now: datetime | None = None) -> bool:
    """Cancels an unpaid order whose payment time is over and returns its stock. Idempotent:
    True only for the run that cancelled it; False if it was paid, cancelled or not yet due."""
    now = now or timezone.now()
    with transaction.atomic():
        expired = _order_release(order=order, actor=None, event_type="expired", now=now, only_if_due=True)
        if expired:
            notification_send(
                user=order.buyer,
                kind="order_expired",
                title=gettext("Order %(number)s was cancelled") % {"number": order.number},
                body=gettext("It was not paid in time, so the items went back on sale."),
                url=f"/orders/{order.number}/",
            )
    if expired:
        order.status, order.cancelled_at = Order.Status.CANCELLED, now
    return expired


def orders_expire_due(*, now: datetime, limit: int = 1000) -> int:
    """Expires every unpaid order past its deadline, each in its own transaction (so one slow or
    failing order holds up no other). Safe to run twice or from two workers at once."""
    expired, after_id = 0, 0
    while True:
        due = list(
            Order.objects.filter(status=Order.Status.PENDING_PAYMENT, expires_at__lte=now, pk__gt=after_id)
            .select_related("buyer")
            .order_by("pk")[:limit]
        )
        expired += sum(1 for order in due if order_expire(order=order, now=now))
        if len(due) < limit:
            return expired
        after_id = due[-1].pk


def order_cancel_by_buyer(*, order: Order, actor: User) -> Order:
    """The buyer cancels their unpaid order; its stock goes back on sale. InvalidTransition once
    it is paid or already cancelled."""
    if order.buyer_id != actor.pk:
        raise NotFound(gettext("Order not found."))
    now = timezone.now()
    with transaction.atomic():
        cancelled = _order_release(
            order=order, actor=actor, event_type="cancelled_by_buyer", now=now, only_if_due=False
        )
        if not cancelled:
            order.refresh_from_db(fields=["status"])
            check_order_transition(order, Order.Status.CANCELLED)
            # The status allowed it a moment ago but someone else got there first.
            raise Unavailable(gettext("This order can no longer be cancelled."))
    order.status, order.cancelled_at = Order.Status.CANCELLED, now
    return order


def order_payment_deadline_extend(*, order: Order, until: datetime, reason: str) -> bool:
    """Keeps an unpaid order open until `until`, for a payment method slower than the usual
    ORDER_PAYMENT_TIMEOUT_MINUTES (a bank transfer takes days). Never shortens the deadline, and
    never reopens an order: the conditional UPDATE only touches an order still awaiting payment
    and not yet past its deadline (the expiry sweep may be about to cancel it). Its stock stays
    reserved meanwhile. Returns True when the order is open until at least `until`."""
    now = timezone.now()
    with transaction.atomic():
        open_order = Order.objects.filter(pk=order.pk, status=Order.Status.PENDING_PAYMENT, expires_at__gt=now)
        extended = open_order.filter(expires_at__lt=until).update(expires_at=until)
        if extended:
            audit_record(
                actor=None,
                action="order.payment_deadline_extended",
                obj=order,
                data={"until": until.isoformat(), "reason": reason},
            )
        elif not open_order.filter(expires_at__gte=until).exists():
            return False
    order.expires_at = max(order.expires_at, until)
    return True
