"""Placing an order: one transaction, stock reserved by conditional UPDATE; expiry and the
buyer's cancellation of unpaid orders, which return the stock exactly once.

Lock order (to stay free of deadlocks): product variants in id order, then products in id
order. Stock is reserved as the *last* writes before commit, so the hot variant's row lock is
held only for those few statements and the commit, not for the order inserts.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from catalog.cache import products_changed
from catalog.models import Product, ProductVariant
from marketplace.errors import DomainError, NotFound, OutOfStock, Unavailable
from marketplace.models import User
from marketplace.money import quantize
from marketplace.services import audit_record, notification_send
from orders.models import Address, Cart, CartLine, Order, OrderEvent, OrderLine, VendorOrder
from orders.selectors import cart_lines_qs, shipping_templates_for_vendors
from orders.transitions import check_order_transition
from vendors.models import ShippingTemplate
from vendors.services import shipping_quote


class CartEmpty(DomainError):  # noqa: N818 - named like the kernel's errors (OutOfStock)
    code = "cart_empty"
    http_status = 400
    default_message = "Your cart is empty."


# Crockford's base32 without I, L, O, U: nothing to misread when a buyer reads a number out.
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def order_number_generate(*, now: datetime) -> str:
    """SQ + yyMMdd + 8 random base32 characters (40 bits: a clash in one day is ~1e-6 at a
    million orders, and the unique constraint is the last line)."""
    day = timezone.localtime(now).strftime("%y%m%d")
    return "SQ" + day + "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(8))


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


def order_place(*, buyer: User, cart: Cart, address: Address, shipping_choices: dict | None = None) -> Order:
    """Turns the buyer's whole cart into one Order with one VendorOrder per shop, in one
    transaction: current prices are snapshotted on the lines, stock is reserved per variant by
    `UPDATE ... SET stock = stock - q WHERE id = v AND stock >= q` (variant-id order), and the
    ordered lines leave the cart. If any variant lacks stock, OutOfStock is raised and nothing
    is written. The order must be paid before settings.ORDER_PAYMENT_TIMEOUT_MINUTES."""
    if cart.user_id != buyer.pk:
        raise NotFound("Cart not found.")
    if address.user_id != buyer.pk:
        raise NotFound("Address not found.")
    choices = _choices_normalise(shipping_choices)
    now = timezone.now()
    with transaction.atomic():
        lines = list(cart_lines_qs(cart))
        if not lines:
            raise CartEmpty()
        by_vendor: dict[int, list[CartLine]] = defaultdict(list)
        requested: dict[int, int] = defaultdict(int)
        currencies = set()
        for line in lines:
            variant = line.variant
            if not line.is_orderable:
                raise Unavailable(what=str(variant))
            requested[variant.pk] += line.quantity
            # Early, friendly refusal; the conditional UPDATE below is what actually guarantees it.
            if requested[variant.pk] > variant.stock:
                raise OutOfStock(sku=variant.sku, available=max(variant.stock, 0), requested=requested[variant.pk])
            by_vendor[variant.product.vendor_id].append(line)
            currencies.add(variant.product.currency)
        if len(currencies) > 1:
            raise Unavailable(gettext("Items priced in different currencies must be ordered separately."))
        currency = currencies.pop()

        templates = shipping_templates_for_vendors(vendor_ids=list(by_vendor))
        parts = []
        for vendor_id, vendor_lines in by_vendor.items():
            vendor = vendor_lines[0].variant.product.vendor
            items_total = quantize(sum((ln.variant.price * ln.quantity for ln in vendor_lines), Decimal(0)), currency)
            template, fee = shipping_choose(
                vendor_name=vendor.name,
                templates=templates[vendor_id],
                chosen_id=choices.get(vendor_id),
                items_total=items_total,
                item_count=sum(ln.quantity for ln in vendor_lines),
                region=address.region,
                currency=currency,
            )
            parts.append((vendor_id, vendor_lines, items_total, template, fee))

        items_total = quantize(sum((p[2] for p in parts), Decimal(0)), currency)
        shipping_total = quantize(sum((p[4] for p in parts), Decimal(0)), currency)
        order = Order.objects.create(
            number=order_number_generate(now=now),
            buyer=buyer,
            currency=currency,
            items_total=items_total,
            shipping_total=shipping_total,
            grand_total=items_total + shipping_total,
            shipping_address=address.snapshot(),
            expires_at=now + timedelta(minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES),
        )
        vendor_orders = VendorOrder.objects.bulk_create(
            [
                VendorOrder(
                    order=order,
                    vendor_id=vendor_id,
                    number=f"{order.number}-{index}",
                    currency=currency,
                    items_total=part_items,
                    shipping_total=fee,
                    total=part_items + fee,
                    shipping_method=template.name if template else "",
                )
                for index, (vendor_id, _lines, part_items, template, fee) in enumerate(parts, start=1)
            ]
        )
        order_lines = []
        for vendor_order, (_vendor_id, vendor_lines, *_rest) in zip(vendor_orders, parts, strict=True):
            for line in vendor_lines:
                variant = line.variant
                order_lines.append(
                    OrderLine(
                        vendor_order=vendor_order,
                        variant_id=variant.pk,
                        product_id_snapshot=variant.product_id,
                        product_title=variant.product.title[:200],
                        variant_name=variant.name,
                        sku=variant.sku,
                        unit_price=variant.price,
                        quantity=line.quantity,
                        line_total=quantize(variant.price * line.quantity, currency),
                    )
                )
        OrderLine.objects.bulk_create(order_lines)
        OrderEvent.objects.create(
            order=order,
            actor=buyer,
            type="placed",
            data={"grand_total": str(order.grand_total), "vendor_orders": [vo.number for vo in vendor_orders]},
        )
        audit_record(actor=buyer, action="order.placed", obj=order, data={"grand_total": str(order.grand_total)})
        CartLine.objects.filter(pk__in=[line.pk for line in lines]).delete()

        variants = {line.variant.pk: line.variant for line in lines}
        _stock_reserve(requested=requested, variants=variants)
        product_quantities: dict[int, int] = defaultdict(int)
        for variant_id, quantity in requested.items():
            product_quantities[variants[variant_id].product_id] += quantity
        _product_stock_move(product_quantities=product_quantities, delta_sign=-1)
        products_changed(product_ids=sorted(product_quantities))
    order.vendor_orders_placed = vendor_orders  # what the caller may show without another query
    return order


def _stock_reserve(*, requested: dict[int, int], variants: dict[int, ProductVariant]) -> None:
    for variant_id in sorted(requested):
        quantity = requested[variant_id]
        reserved = ProductVariant.objects.filter(pk=variant_id, stock__gte=quantity).update(stock=F("stock") - quantity)
        if not reserved:
            available = ProductVariant.objects.filter(pk=variant_id).values_list("stock", flat=True).first() or 0
            raise OutOfStock(sku=variants[variant_id].sku, available=max(available, 0), requested=quantity)


def _product_stock_move(*, product_quantities: dict[int, int], delta_sign: int) -> None:
    """Keeps the product's listing total (total_stock) in step with its variants' stock. (Units
    sold are counted when the order is paid, by the fulfilment services.)"""
    for product_id in sorted(product_quantities):
        quantity = product_quantities[product_id] * delta_sign
        Product.objects.filter(pk=product_id).update(total_stock=F("total_stock") + quantity)


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
    """pending_payment -> cancelled for the order and its shop orders, stock returned. The
    conditional UPDATE on the order row is the gate: a second run (or a concurrent one, which
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
    product_ids = vendor_orders_release_stock(vendor_order_ids=vendor_order_ids)
    OrderEvent.objects.create(
        order_id=order_id, actor=actor, type=event_type, data={"stock_returned_for_products": product_ids}
    )
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
    due = list(
        Order.objects.filter(status=Order.Status.PENDING_PAYMENT, expires_at__lte=now)
        .select_related("buyer")
        .order_by("expires_at", "id")[:limit]
    )
    return sum(1 for order in due if order_expire(order=order, now=now))


def order_cancel_by_buyer(*, order: Order, actor: User) -> Order:
    """The buyer cancels their unpaid order; its stock goes back on sale. InvalidTransition once
    it is paid or already cancelled."""
    if order.buyer_id != actor.pk:
        raise NotFound("Order not found.")
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
