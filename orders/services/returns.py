"""Returns and refund requests: the buyer asks, the shop accepts or refuses, the platform
arbitrates disputes. The money side (the Refund, the ledger reversal, the provider call) belongs
to payments, which orders may not import: once a refund is approved this module emits
hooks.RETURN_REFUND_APPROVED, and payments calls return_mark_refunded when the refund succeeded.

Every action is one transaction that moves the request with a conditional
UPDATE ... WHERE status = <source> (a double click, two staff members or a replayed call change
nothing twice), writes an OrderEvent carrying the request's number (its timeline) and an
AuditEvent, and notifies the other party (in-app now, e-mail after commit). The allowed moves
are RETURN_TRANSITIONS in orders/transitions.py.

Locks: opening and disputing lock the shop order's row (so concurrent requests cannot claim the
same units, and payments' settlement, which skips shop orders with open returns, cannot slip in
between); receiving goods then updates variants in id order, then products, like checkout.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalog.cache import products_changed
from catalog.models import Product, ProductVariant
from marketplace import hooks
from marketplace.errors import DomainError, InvalidTransition, NotFound, PermissionDeniedError
from marketplace.models import User
from marketplace.money import quantize
from marketplace.services import audit_record, notification_send
from marketplace.uploads import validate_image
from orders import return_selectors
from orders.models import OrderEvent, OrderLine, ReturnLine, ReturnPhoto, ReturnRequest, VendorOrder
from orders.transitions import check_return_transition
from vendors.models import VendorMember
from vendors.selectors import role_allows

RS = ReturnRequest.Status
KIND = ReturnRequest.Kind
VO = VendorOrder.Status

REASONS = [
    ("not_received", gettext_lazy("I did not receive the goods")),
    ("damaged", gettext_lazy("Damaged or defective")),
    ("wrong_item", gettext_lazy("Wrong item, size or colour")),
    ("not_as_described", gettext_lazy("Not as described")),
    ("missing_parts", gettext_lazy("Parts or accessories missing")),
    ("changed_mind", gettext_lazy("I no longer want it")),
    ("other", gettext_lazy("Other")),
]
REASON_LABELS = dict(REASONS)
MAX_PHOTOS = 5
DESCRIPTION_MAX_LENGTH = 2000
NOTE_MAX_LENGTH = 2000
CARRIER_MAX_LENGTH = 60
TRACKING_MAX_LENGTH = 60
ARBITRATION_DECISIONS = ("refund", "refuse")


class ReturnNotAllowed(DomainError):  # noqa: N818 - named like the kernel's errors
    code = "return_not_allowed"
    http_status = 409
    default_message = "{reason}"


class InvalidReturn(DomainError):  # noqa: N818
    code = "invalid_return"
    http_status = 400
    default_message = "{reason}"


class ReturnQuantityExceeded(DomainError):  # noqa: N818
    code = "return_quantity_exceeded"
    http_status = 409
    default_message = gettext_lazy("Only {available} of “{item}” can still be returned; {requested} requested.")


# --- The buyer ------------------------------------------------------------------------------


def return_request_open(
    *,
    vendor_order: VendorOrder,
    actor: User,
    kind: str,
    reason: str,
    description: str = "",
    lines: Sequence[tuple[OrderLine, int]],
    shipping_refund: bool = False,
    photos: Sequence[UploadedFile] = (),
) -> ReturnRequest:
    """The buyer asks for money back (refund_only) or to send goods back for money
    (return_and_refund) for some units of some lines of one shop order.

    Refused unless the actor bought the order, it is paid and not settled, and it is inside the
    return window (RETURN_WINDOW_DAYS after delivery; always before delivery). return_and_refund
    needs the goods to have left the shop. Units never exceed what was bought less what other
    requests still claim; each line's amount is the buyer's paid share of those units, computed
    cumulatively so that returning every unit, over any number of requests, refunds exactly
    what was paid. The shop order's row is locked for the whole check-and-write."""
    if not actor.is_authenticated or vendor_order.order.buyer_id != actor.pk:
        raise NotFound(_("Order not found."))
    if kind not in KIND.values:
        raise InvalidReturn(reason=_("Choose whether you want a refund only or to return the goods."))
    if reason not in REASON_LABELS:
        raise InvalidReturn(reason=_("Choose a reason."))
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise InvalidReturn(
            reason=_("The description must be at most %(limit)s characters.") % {"limit": DESCRIPTION_MAX_LENGTH}
        )
    requested = _requested_quantities(vendor_order=vendor_order, lines=lines)
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS:
        raise InvalidReturn(reason=_("Attach at most %(limit)s photos.") % {"limit": MAX_PHOTOS})
    for photo in photos:
        validate_image(photo)

    with transaction.atomic():
        locked = _lock_vendor_order(vendor_order)
        now = timezone.now()
        refusal = return_selectors.vendor_order_return_refusal(vendor_order=locked, now=now)
        if refusal:
            raise ReturnNotAllowed(reason=refusal)
        if kind == KIND.RETURN_AND_REFUND and locked.status == VO.PAID:
            raise ReturnNotAllowed(
                reason=_("The shop has not shipped this order yet: ask for a refund only, nothing needs to come back.")
            )
        order_lines = {line.pk: line for line in OrderLine.objects.filter(vendor_order=locked).order_by("id")}
        claims = return_selectors.return_claims_by_line(vendor_order_id=locked.pk)
        amounts = _line_amounts(order_lines=order_lines, requested=requested, claims=claims, currency=locked.currency)
        shipping = _shipping_refund(
            vendor_order=locked,
            kind=kind,
            order_lines=order_lines,
            requested=requested,
            claims=claims,
            wanted=shipping_refund,
            exclude_return_id=None,
        )
        return_request = ReturnRequest.objects.create(
            vendor_order=locked,
            buyer=actor,
            number=f"{locked.number}-R{locked.returns.count() + 1}",
            kind=kind,
            reason=reason,
            description=description,
            shipping_refund=shipping,
            amount=quantize(sum(amounts.values(), Decimal(0)) + shipping, locked.currency),
            currency=locked.currency,
        )
        ReturnLine.objects.bulk_create(
            ReturnLine(return_request=return_request, order_line_id=line_id, quantity=quantity, amount=amounts[line_id])
            for line_id, quantity in sorted(requested.items())
        )
        for photo in photos:
            ReturnPhoto.objects.create(return_request=return_request, image=photo)
        data = {
            "kind": kind,
            "reason": reason,
            "amount": str(return_request.amount),
            "lines": {str(line_id): quantity for line_id, quantity in sorted(requested.items())},
        }
        _record(return_request, actor=actor, event="requested", data=data)
        _notify_shop(
            return_request,
            kind="return.requested",
            title=_("Return request %(number)s for order %(order)s")
            % {"number": return_request.number, "order": locked.number},
            body=_("%(reason)s. Refund asked: %(amount)s %(currency)s.")
            % {"reason": REASON_LABELS[reason], "amount": return_request.amount, "currency": return_request.currency},
        )
    return return_request


def return_request_ship_back(
    *, return_request: ReturnRequest, actor: User, carrier: str, tracking_number: str
) -> ReturnRequest:
    """The buyer sent the goods back after the shop (or the platform) accepted: records the
    carrier and tracking number (may be corrected until the shop receives the parcel)."""
    _require_buyer(actor=actor, return_request=return_request)
    carrier, tracking_number = (carrier or "").strip(), (tracking_number or "").strip()
    if not carrier or not tracking_number:
        raise InvalidReturn(reason=_("Carrier and tracking number are required."))
    if len(carrier) > CARRIER_MAX_LENGTH or len(tracking_number) > TRACKING_MAX_LENGTH:
        raise InvalidReturn(reason=_("Carrier and tracking number must be at most 60 characters."))
    with transaction.atomic():
        changed = _awaiting_goods(return_request).update(return_carrier=carrier, return_tracking_number=tracking_number)
        if not changed:
            raise ReturnNotAllowed(reason=_("Nothing is waiting to be sent back for this request."))
        data = {"carrier": carrier, "tracking_number": tracking_number}
        _record(return_request, actor=actor, event="shipped_back", data=data)
        _notify_shop(
            return_request,
            kind="return.shipped_back",
            title=_("The buyer sent back the goods of %(number)s") % {"number": return_request.number},
            body=_("Carrier: %(carrier)s, tracking number: %(tracking)s")
            % {"carrier": carrier, "tracking": tracking_number},
        )
    return_request.refresh_from_db()
    return return_request


def return_request_dispute(*, return_request: ReturnRequest, actor: User, reason: str) -> ReturnRequest:
    """The buyer disagrees with the shop's refusal: the platform arbitrates. While it was refused
    its units were free to ask for again, so they are checked again (under the shop order's
    lock) and its amounts recomputed against what other requests claim now."""
    _require_buyer(actor=actor, return_request=return_request)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidReturn(reason=_("Tell the platform why you disagree with the shop."))
    if len(reason) > NOTE_MAX_LENGTH:
        raise InvalidReturn(reason=_("Keep it under %(limit)s characters.") % {"limit": NOTE_MAX_LENGTH})
    check_return_transition(return_request, RS.DISPUTED)
    with transaction.atomic():
        locked = _lock_vendor_order(return_request.vendor_order)
        if return_selectors.vendor_order_is_settled(vendor_order_id=locked.pk):
            raise ReturnNotAllowed(reason=_("This order has been settled with the shop; returns are closed."))
        return_lines = list(return_request.lines.select_related("order_line").order_by("id"))
        requested = {line.order_line_id: line.quantity for line in return_lines}
        order_lines = {line.pk: line for line in OrderLine.objects.filter(vendor_order=locked).order_by("id")}
        claims = return_selectors.return_claims_by_line(vendor_order_id=locked.pk, exclude_return_id=return_request.pk)
        amounts = _line_amounts(order_lines=order_lines, requested=requested, claims=claims, currency=locked.currency)
        shipping = _shipping_refund(
            vendor_order=locked,
            kind=return_request.kind,
            order_lines=order_lines,
            requested=requested,
            claims=claims,
            wanted=return_request.shipping_refund > 0,
            exclude_return_id=return_request.pk,
            strict=False,
        )
        amount = quantize(sum(amounts.values(), Decimal(0)) + shipping, locked.currency)
        _move(
            return_request,
            source=RS.REFUSED,
            target=RS.DISPUTED,
            fields={"shipping_refund": shipping, "amount": amount},
        )
        for line in return_lines:
            if line.amount != amounts[line.order_line_id]:
                ReturnLine.objects.filter(pk=line.pk).update(amount=amounts[line.order_line_id])
        _record(return_request, actor=actor, event="disputed", data={"reason": reason, "amount": str(amount)})
        _notify_shop(
            return_request,
            kind="return.disputed",
            title=_("The buyer disputes your refusal of %(number)s") % {"number": return_request.number},
            body=reason,
        )
    return_request.refresh_from_db()
    return return_request


def return_request_cancel(*, return_request: ReturnRequest, actor: User) -> ReturnRequest:
    """The buyer takes the request back, while it is open and before the refund was approved."""
    _require_buyer(actor=actor, return_request=return_request)
    check_return_transition(return_request, RS.CANCELLED)
    with transaction.atomic():
        changed = ReturnRequest.objects.filter(
            pk=return_request.pk, status__in=ReturnRequest.OPEN_STATUSES, refund_approved_at__isnull=True
        ).update(status=RS.CANCELLED, closed_at=timezone.now())
        if not changed:
            return_request.refresh_from_db()
            if return_request.refund_approved_at is not None and return_request.status == RS.ACCEPTED:
                raise ReturnNotAllowed(reason=_("The refund is already on its way and can no longer be cancelled."))
            _refuse_move(return_request, RS.CANCELLED)
        _record(return_request, actor=actor, event="cancelled")
        _notify_shop(
            return_request,
            kind="return.cancelled",
            title=_("The buyer cancelled return request %(number)s") % {"number": return_request.number},
            email=False,
        )
    return_request.refresh_from_db()
    return return_request


# --- The shop -------------------------------------------------------------------------------


def return_request_accept(*, return_request: ReturnRequest, actor: User) -> ReturnRequest:
    """The shop agrees. A refund only is approved at once (payments is told through
    hooks.RETURN_REFUND_APPROVED and moves the request to refunded); a return waits for the
    goods (return_request_goods_received approves the refund). Also allowed while disputed."""
    _require_shop_staff(actor=actor, return_request=return_request)
    check_return_transition(return_request, RS.ACCEPTED)
    return _approve(
        return_request,
        actor=actor,
        sources=(RS.REQUESTED, RS.DISPUTED),
        goods_return=True,
        event="accepted",
        fields={},
    )


def return_request_refuse(*, return_request: ReturnRequest, actor: User, note: str) -> ReturnRequest:
    """The shop says no, and why; the buyer may then dispute it with the platform."""
    _require_shop_staff(actor=actor, return_request=return_request)
    note = (note or "").strip()
    if not note:
        raise InvalidReturn(reason=_("Tell the buyer why the request is refused."))
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidReturn(reason=_("Keep it under %(limit)s characters.") % {"limit": NOTE_MAX_LENGTH})
    check_return_transition(return_request, RS.REFUSED)
    with transaction.atomic():
        _move(
            return_request,
            source=RS.REQUESTED,
            target=RS.REFUSED,
            fields={"vendor_note": note, "decided_at": timezone.now()},
        )
        _record(return_request, actor=actor, event="refused", data={"note": note})
        _notify_buyer(
            return_request,
            kind="return.refused",
            title=_("%(shop)s refused your return request %(number)s")
            % {"shop": return_request.vendor_order.vendor.name, "number": return_request.number},
            body=note,
        )
    return_request.refresh_from_db()
    return return_request


def return_request_goods_received(*, return_request: ReturnRequest, actor: User) -> ReturnRequest:
    """The shop received the goods sent back: their units go back into stock (variants and the
    products' totals) and the refund is approved. Exactly once: the conditional UPDATE on the
    request is the gate, so a second click or a replay returns no stock and emits nothing."""
    _require_shop_staff(actor=actor, return_request=return_request)
    with transaction.atomic():
        now = timezone.now()
        changed = _awaiting_goods(return_request).update(goods_received_at=now, refund_approved_at=now)
        if not changed:
            raise ReturnNotAllowed(
                reason=_("No goods are awaited for this request (already received, or not accepted).")
            )
        product_ids = _stock_return(return_request)
        _record(return_request, actor=actor, event="goods_received", data={"stock_returned_for_products": product_ids})
        _notify_buyer(
            return_request,
            kind="return.goods_received",
            title=_("%(shop)s received the goods of %(number)s; your refund is on its way")
            % {"shop": return_request.vendor_order.vendor.name, "number": return_request.number},
        )
        return_request.refresh_from_db()
        hooks.emit(hooks.RETURN_REFUND_APPROVED, return_request=return_request, actor=actor)
    return_request.refresh_from_db()
    return return_request


# --- The platform ---------------------------------------------------------------------------


def return_request_arbitrate(
    *, return_request: ReturnRequest, actor: User, decision: str, note: str = "", goods_return: bool = True
) -> ReturnRequest:
    """A platform admin settles a dispute. "refund" works like the shop's accept, except that
    with goods_return=False the refund is approved without the goods coming back; "refuse"
    closes the request for good."""
    if not (actor.is_authenticated and actor.is_staff):
        raise PermissionDeniedError(_("Only the platform's staff can arbitrate."))
    if decision not in ARBITRATION_DECISIONS:
        raise InvalidReturn(reason=_("Decide either refund or refuse."))
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidReturn(reason=_("Keep it under %(limit)s characters.") % {"limit": NOTE_MAX_LENGTH})
    if decision == "refund":
        check_return_transition(return_request, RS.ACCEPTED)
        if return_request.status != RS.DISPUTED:
            _refuse_move(return_request, RS.ACCEPTED)
        return _approve(
            return_request,
            actor=actor,
            sources=(RS.DISPUTED,),
            goods_return=goods_return,
            event="arbitrated_refund",
            fields={"admin_note": note},
        )
    check_return_transition(return_request, RS.CLOSED)
    with transaction.atomic():
        _move(
            return_request,
            source=RS.DISPUTED,
            target=RS.CLOSED,
            fields={"admin_note": note, "closed_at": timezone.now()},
        )
        _record(return_request, actor=actor, event="arbitrated_refuse", data={"note": note})
        _notify_buyer(
            return_request,
            kind="return.closed",
            title=_("The platform decided against return request %(number)s") % {"number": return_request.number},
            body=note,
        )
        _notify_shop(
            return_request,
            kind="return.closed",
            title=_("The platform closed return request %(number)s in your favour") % {"number": return_request.number},
            body=note,
            email=False,
        )
    return_request.refresh_from_db()
    return return_request


# --- Payments' call back --------------------------------------------------------------------


def return_mark_refunded(*, return_request: ReturnRequest) -> bool:
    """payments confirms the refund reached the buyer: accepted -> refunded. Idempotent: True
    when this call made the change, False when it was already refunded; InvalidTransition if
    no refund was ever approved for it."""
    with transaction.atomic():
        changed = ReturnRequest.objects.filter(
            pk=return_request.pk, status=RS.ACCEPTED, refund_approved_at__isnull=False
        ).update(status=RS.REFUNDED, closed_at=timezone.now())
        if not changed:
            return_request.refresh_from_db()
            if return_request.status == RS.REFUNDED:
                return False
            raise InvalidTransition(
                name=_("return %(number)s") % {"number": return_request.number},
                source=return_request.status,
                target=RS.REFUNDED,
            )
        _record(return_request, actor=None, event="refunded", data={"amount": str(return_request.amount)})
        _notify_buyer(
            return_request,
            kind="return.refunded",
            title=_("Refund of %(amount)s %(currency)s for %(number)s completed")
            % {"amount": return_request.amount, "currency": return_request.currency, "number": return_request.number},
        )
        _notify_shop(
            return_request,
            kind="return.refunded",
            title=_("Return request %(number)s was refunded") % {"number": return_request.number},
            email=False,
        )
    return_request.refresh_from_db()
    return True


# --- Helpers --------------------------------------------------------------------------------


def _approve(
    return_request: ReturnRequest,
    *,
    actor: User,
    sources: tuple[str, ...],
    goods_return: bool,
    event: str,
    fields: dict,
) -> ReturnRequest:
    """-> accepted; the refund is approved (and the hook emitted) now unless goods must come back."""
    refund_now = return_request.kind == KIND.REFUND_ONLY or not goods_return
    with transaction.atomic():
        now = timezone.now()
        values = {"status": RS.ACCEPTED, "decided_at": now, **fields}
        if refund_now:
            values["refund_approved_at"] = now
        changed = ReturnRequest.objects.filter(
            pk=return_request.pk, status__in=sources, refund_approved_at__isnull=True
        ).update(**values)
        if not changed:
            return_request.refresh_from_db()
            _refuse_move(return_request, RS.ACCEPTED)
        _record(return_request, actor=actor, event=event, data={"refund_now": refund_now, **fields})
        shop = return_request.vendor_order.vendor.name
        if refund_now:
            title = _("Return request %(number)s was accepted; your refund is on its way")
        else:
            title = _("Return request %(number)s was accepted: please send the goods back to %(shop)s")
        _notify_buyer(
            return_request, kind=f"return.{event}", title=title % {"number": return_request.number, "shop": shop}
        )
        if event != "accepted":  # the platform decided: the shop hears of it too
            _notify_shop(
                return_request,
                kind=f"return.{event}",
                title=_("The platform ordered a refund for return request %(number)s")
                % {"number": return_request.number},
                body=fields.get("admin_note", ""),
            )
        return_request.refresh_from_db()
        if refund_now:
            hooks.emit(hooks.RETURN_REFUND_APPROVED, return_request=return_request, actor=actor)
    return_request.refresh_from_db()
    return return_request


def _requested_quantities(*, vendor_order: VendorOrder, lines: Iterable[tuple[OrderLine, int]]) -> dict[int, int]:
    requested: dict[int, int] = {}
    for line, quantity in lines:
        if line.vendor_order_id != vendor_order.pk:
            raise NotFound(_("Order line not found."))
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise InvalidReturn(reason=_("Quantities must be whole numbers of at least 1."))
        if line.pk in requested:
            raise InvalidReturn(reason=_("Each item may appear only once in a request."))
        requested[line.pk] = quantity
    if not requested:
        raise InvalidReturn(reason=_("Choose at least one item and how many units."))
    return requested


def _line_amounts(
    *,
    order_lines: dict[int, OrderLine],
    requested: dict[int, int],
    claims: dict[int, return_selectors.LineClaim],
    currency: str,
) -> dict[int, Decimal]:
    """Per line, the buyer's paid share of the requested units. Cumulative: the money already
    claimed for the line is subtracted from the rounded share of all units claimed so far, so
    the last units take the remainder and every unit returned refunds exactly what was paid
    (3 units paid 10.00: 3.33, 3.33, 3.34), never a cent more."""
    amounts: dict[int, Decimal] = {}
    for line_id, quantity in requested.items():
        line = order_lines[line_id]
        claim = claims.get(line_id, return_selectors.LineClaim())
        available = line.quantity - claim.quantity
        if quantity > available:
            raise ReturnQuantityExceeded(item=line.product_title, available=max(available, 0), requested=quantity)
        paid = line.paid_amount
        after = quantize(paid * (claim.quantity + quantity) / line.quantity, currency)
        amounts[line_id] = max(after - claim.amount, Decimal(0))
    return amounts


def _shipping_refund(
    *,
    vendor_order: VendorOrder,
    kind: str,
    order_lines: dict[int, OrderLine],
    requested: dict[int, int],
    claims: dict[int, return_selectors.LineClaim],
    wanted: bool,
    exclude_return_id: int | None,
    strict: bool = True,
) -> Decimal:
    """The shipping fee comes back once: when this request completes the return of every unit,
    or for a refund only before the shop shipped anything."""
    zero = quantize(0, vendor_order.currency)
    if not wanted or vendor_order.shipping_total <= 0:
        return zero
    everything = all(
        claims.get(line_id, return_selectors.LineClaim()).quantity + requested.get(line_id, 0) >= line.quantity
        for line_id, line in order_lines.items()
    )
    before_shipping = kind == KIND.REFUND_ONLY and vendor_order.status == VO.PAID
    others = ReturnRequest.objects.filter(vendor_order_id=vendor_order.pk, shipping_refund__gt=0).exclude(
        status__in=return_selectors.NOT_CLAIMING_STATUSES
    )
    if exclude_return_id is not None:
        others = others.exclude(pk=exclude_return_id)
    eligible = (everything or before_shipping) and not others.exists()
    if not eligible:
        if strict:
            raise InvalidReturn(
                reason=_(
                    "Shipping is refunded only with the last of the items, or for a refund before the shop shipped."
                )
            )
        return zero
    return vendor_order.shipping_total


def _stock_return(return_request: ReturnRequest) -> list[int]:
    """Puts the returned units back on sale: F() updates in variant-id order, then each product's
    total_stock in product-id order (the lock order checkout uses). Returns the products touched."""
    per_variant: dict[int, int] = defaultdict(int)
    per_product: dict[int, int] = defaultdict(int)
    rows = ReturnLine.objects.filter(
        return_request_id=return_request.pk, order_line__variant_id__isnull=False
    ).values_list("order_line__variant_id", "order_line__product_id_snapshot", "quantity")
    for variant_id, product_id, quantity in rows:
        per_variant[variant_id] += quantity
        per_product[product_id] += quantity
    for variant_id in sorted(per_variant):
        ProductVariant.objects.filter(pk=variant_id).update(stock=F("stock") + per_variant[variant_id])
    for product_id in sorted(per_product):
        Product.objects.filter(pk=product_id).update(total_stock=F("total_stock") + per_product[product_id])
    if per_product:
        products_changed(product_ids=sorted(per_product))
    return sorted(per_product)


def _lock_vendor_order(vendor_order: VendorOrder) -> VendorOrder:
    return VendorOrder.objects.select_for_update().select_related("order", "vendor").get(pk=vendor_order.pk)


def _awaiting_goods(return_request: ReturnRequest):
    """The request, if it is accepted and still waiting for the goods to come back."""
    return ReturnRequest.objects.filter(
        pk=return_request.pk,
        kind=KIND.RETURN_AND_REFUND,
        status=RS.ACCEPTED,
        goods_received_at__isnull=True,
        refund_approved_at__isnull=True,
    )


def _move(return_request: ReturnRequest, *, source: str, target: str, fields: dict) -> None:
    """The conditional UPDATE; on a lost race, re-read and refuse with the real current state."""
    changed = ReturnRequest.objects.filter(pk=return_request.pk, status=source).update(status=target, **fields)
    if not changed:
        return_request.refresh_from_db()
        _refuse_move(return_request, target)
    return_request.status = target


def _refuse_move(return_request: ReturnRequest, target: str):
    raise InvalidTransition(
        name=_("return %(number)s") % {"number": return_request.number}, source=return_request.status, target=target
    )


def _require_buyer(*, actor: User, return_request: ReturnRequest) -> None:
    if not actor.is_authenticated or return_request.buyer_id != actor.pk:
        raise NotFound(_("Return not found."))


def _require_shop_staff(*, actor: User, return_request: ReturnRequest) -> None:
    """Staff of the request's shop whose role covers orders (as for shipping); superusers too."""
    if actor.is_authenticated and actor.is_superuser:
        return
    vendor_id = return_request.vendor_order.vendor_id
    member = (
        VendorMember.objects.filter(vendor_id=vendor_id, user_id=actor.pk).first() if actor.is_authenticated else None
    )
    if member is None or not role_allows(role=member.role, permission="orders"):
        raise NotFound(_("Return not found."))


def _record(return_request: ReturnRequest, *, actor: User | None, event: str, data: dict | None = None) -> None:
    data = {"return": return_request.number, **(data or {})}
    vendor_order = return_request.vendor_order
    OrderEvent.objects.create(
        order_id=vendor_order.order_id, vendor_order=vendor_order, actor=actor, type=f"return_{event}", data=data
    )
    audit_record(actor=actor, action=f"return.{event}", obj=return_request, data=data)


def _notify_buyer(return_request: ReturnRequest, *, kind: str, title: str, body: str = "") -> None:
    notification_send(
        user=return_request.buyer,
        kind=kind,
        title=title,
        body=body,
        url=reverse("orders:return_detail", args=[return_request.number]),
    )


def _notify_shop(return_request: ReturnRequest, *, kind: str, title: str, body: str = "", email: bool = True) -> None:
    vendor_id = return_request.vendor_order.vendor_id
    url = reverse("orders:dashboard-return", args=[return_request.number])
    for member in VendorMember.objects.filter(vendor_id=vendor_id).select_related("user").order_by("pk"):
        if role_allows(role=member.role, permission="orders") and member.user.is_active:
            notification_send(user=member.user, kind=kind, title=title, body=body, url=url, email=email)
