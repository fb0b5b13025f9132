"""Shop orders in the states returns care about (paid, shipped, delivered some days ago,
completed), written directly as rows, and a receiver that records the refund hook."""

import io
from datetime import timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from catalog.tests.factories import VariantFactory
from marketplace import hooks
from marketplace.models import User
from orders.models import OrderLine, VendorOrder
from orders.tests.fulfilment_factories import placed_order
from vendors.models import Vendor

VO = VendorOrder.Status


def shop_order(
    *,
    buyer: User,
    shop: Vendor,
    lines: list[tuple[str, int]] = (("10.00", 3),),
    status: str = VO.DELIVERED,
    delivered_days_ago: float = 1,
    shipping: str = "10.00",
    stock: int = 5,
) -> VendorOrder:
    """One shop order of the buyer: a fresh variant per (unit price, quantity), paid, and moved
    to `status` with the timestamps that state implies (delivered `delivered_days_ago` days ago)."""
    variants = [(VariantFactory(product__vendor=shop, price=price, stock=stock), quantity) for price, quantity in lines]
    order = placed_order(buyer=buyer, items={shop: variants}, shipping=shipping)
    now = timezone.now()
    if status not in (VO.PENDING_PAYMENT, VO.CANCELLED):
        # Paid for real (sandbox gateway, signed notification): payments has the capture and its
        # split, so an approved refund can really be created by payments' hook receiver.
        from payments.tests.money_helpers import pay

        pay(order)
    stamps = {"paid_at": now - timedelta(days=delivered_days_ago + 3)}
    if status in (VO.SHIPPED, VO.DELIVERED, VO.COMPLETED):
        stamps["shipped_at"] = now - timedelta(days=delivered_days_ago + 2)
        stamps["carrier"], stamps["tracking_number"] = "SF Express", "SF100"
    if status in (VO.DELIVERED, VO.COMPLETED):
        stamps["delivered_at"] = now - timedelta(days=delivered_days_ago)
    if status == VO.COMPLETED:
        stamps["completed_at"] = now - timedelta(days=delivered_days_ago)
    VendorOrder.objects.filter(order=order).update(status=status, **stamps)
    return VendorOrder.objects.select_related("order", "vendor").get(order=order)


def with_discounts(line: OrderLine, *, shop: str = "0.00", platform: str = "0.00") -> OrderLine:
    OrderLine.objects.filter(pk=line.pk).update(shop_discount=Decimal(shop), platform_discount=Decimal(platform))
    line.refresh_from_db()
    return line


def settle(vendor_order: VendorOrder) -> None:
    """What payments' settlement leaves behind that orders can see: one Settlement row for the
    shop order (the ledger side is payments' to test). Tests may reach into payments; the
    orders app itself never imports it."""
    from payments.models import JournalEntry, Payment, Settlement

    now = timezone.now()
    payment = Payment.objects.get(order=vendor_order.order, status=Payment.Status.CAPTURED)
    entry = JournalEntry.objects.create(
        idempotency_key=f"settlement:{vendor_order.pk}", kind="settlement", effective_at=now
    )
    Settlement.objects.create(
        vendor_order=vendor_order,
        vendor=vendor_order.vendor,
        payment=payment,
        currency=vendor_order.currency,
        vendor_amount=vendor_order.total,
        commission=0,
        entry=entry,
        settled_at=now,
    )


def photo(name: str = "broken.png", color: str = "red") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), color).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def not_an_image() -> SimpleUploadedFile:
    return SimpleUploadedFile("evil.png", b"<?php echo 1; ?>", content_type="image/png")


class RefundHookRecorder:
    """A real receiver of hooks.RETURN_REFUND_APPROVED (the kernel hook payments listens on):
    it records what it was told, as payments' receiver would be told it."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def __call__(self, *, return_request, actor) -> None:
        self.calls.append(
            {
                "number": return_request.number,
                "status": return_request.status,
                "amount": return_request.amount,
                "refund_approved": return_request.refund_approved_at is not None,
                "actor": actor.pk if actor is not None else None,
            }
        )

    def __enter__(self):
        hooks.register(hooks.RETURN_REFUND_APPROVED, self)
        return self

    def __exit__(self, *exc) -> None:
        hooks._receivers[hooks.RETURN_REFUND_APPROVED].remove(self)
