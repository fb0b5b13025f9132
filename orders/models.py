from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from catalog.models import ProductVariant
from marketplace.money import CURRENCY_CHOICES, MoneyField
from vendors.models import Vendor, private_storage


class Cart(models.Model):
    """One cart across shops: a signed-in buyer's (user) or a visitor's (session_key)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="cart"
    )
    session_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | models.Q(session_key__isnull=False), name="cart_has_owner"
            )
        ]

    def __str__(self) -> str:
        return f"cart {self.pk}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(ProductVariant, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    price_when_added = MoneyField()
    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who shared the product with the buyer (a referral link); becomes the order line's referrer.",
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="cart_line_unique_variant"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="cart_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × variant {self.variant_id}"


class Address(models.Model):
    """An entry in the buyer's address book."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses")
    recipient = models.CharField(_("recipient"), max_length=80)
    phone = models.CharField(_("phone"), max_length=32)
    country = models.CharField(_("country"), max_length=2, default="CN")
    region = models.CharField(_("province / region"), max_length=60)
    city = models.CharField(_("city"), max_length=60)
    district = models.CharField(_("district"), max_length=60, blank=True)
    street = models.CharField(_("street address"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    is_default = models.BooleanField(_("default address"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "-id"]
        verbose_name_plural = _("addresses")

    def __str__(self) -> str:
        return f"{self.recipient}, {self.street}, {self.city}, {self.region}"

    def snapshot(self) -> dict:
        fields = ("recipient", "phone", "country", "region", "city", "district", "street", "postal_code")
        return {name: getattr(self, name) for name in fields}


class Order(models.Model):
    """What the buyer checked out and pays once for; one VendorOrder per shop in it."""

    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(max_length=32, unique=True)
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="CNY")
    items_total = MoneyField()
    shipping_total = MoneyField()
    discount_total = MoneyField(default=0)
    grand_total = MoneyField()
    shipping_address = models.JSONField()
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "expires_at"], name="order_expiry_idx")]

    def __str__(self) -> str:
        return self.number


class VendorOrder(models.Model):
    """One shop's part of an Order: shipped, tracked and settled on its own."""

    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
        PAID = "paid", _("Paid, to ship")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="vendor_orders")
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="vendor_orders")
    number = models.CharField(max_length=40, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="CNY")
    items_total = MoneyField()
    shipping_total = MoneyField()
    shop_discount = MoneyField(_("shop discount"), default=0)
    platform_discount = MoneyField(_("platform discount"), default=0)
    total = MoneyField()
    shipping_method = models.CharField(max_length=80, blank=True)
    carrier = models.CharField(_("carrier"), max_length=60, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=60, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["vendor", "status", "-created_at"], name="vendor_order_queue_idx")]
        constraints = [
            models.UniqueConstraint(fields=["order", "vendor"], name="vendor_order_one_per_shop"),
            models.CheckConstraint(
                condition=models.Q(
                    items_total__gte=0,
                    shipping_total__gte=0,
                    total__gte=0,
                    shop_discount__gte=0,
                    platform_discount__gte=0,
                ),
                name="vendor_order_totals_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    """A line with the price and names the buyer agreed to, frozen at checkout."""

    vendor_order = models.ForeignKey(VendorOrder, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(ProductVariant, null=True, on_delete=models.SET_NULL, related_name="+")
    product_id_snapshot = models.BigIntegerField()
    product_title = models.CharField(max_length=200)
    variant_name = models.CharField(max_length=120, blank=True)
    sku = models.CharField(max_length=64)
    unit_price = MoneyField()
    quantity = models.PositiveIntegerField()
    line_total = MoneyField()
    # Coupons allocated to this line at checkout (largest remainder), by who funds them.
    shop_discount = MoneyField(_("shop discount"), default=0)
    platform_discount = MoneyField(_("platform discount"), default=0)
    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="referred_lines"
    )
    referral_rate = models.DecimalField(
        max_digits=5, decimal_places=4, default=0, help_text="The product's referral rate when the order was placed."
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="order_line_quantity_positive"),
            models.CheckConstraint(
                condition=models.Q(shop_discount__gte=0, platform_discount__gte=0)
                & models.Q(line_total__gte=models.F("shop_discount") + models.F("platform_discount")),
                name="order_line_discount_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_title}"

    @property
    def paid_amount(self):
        """What the buyer paid for this line: its total less every coupon allocated to it."""
        return self.line_total - self.shop_discount - self.platform_discount


class OrderEvent(models.Model):
    """The timeline of an order: every transition with its actor."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    vendor_order = models.ForeignKey(
        VendorOrder, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    type = models.CharField(max_length=40)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.type} ({self.created_at:%Y-%m-%d %H:%M})" if self.created_at else self.type


# --- Coupons ----------------------------------------------------------------------------------


class Coupon(models.Model):
    """A discount funded by one shop (shop coupon) or by the platform (platform coupon).

    The funder matters to the money: a shop coupon reduces the shop's share, a platform coupon
    is paid by the platform's promotions account and never reduces the shop's share."""

    class Funder(models.TextChoices):
        SHOP = "shop", _("Shop")
        PLATFORM = "platform", _("Platform")

    class Kind(models.TextChoices):
        FIXED = "fixed", _("Fixed amount")
        PERCENT = "percent", _("Percentage")

    name = models.CharField(_("name"), max_length=120)
    code = models.CharField(
        _("code"), max_length=32, unique=True, null=True, blank=True, help_text=_("Empty: claimable only.")
    )
    funder = models.CharField(_("funded by"), max_length=10, choices=Funder.choices)
    vendor = models.ForeignKey(
        Vendor, null=True, blank=True, on_delete=models.CASCADE, related_name="coupons", verbose_name=_("shop")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    value = models.DecimalField(
        _("value"), max_digits=14, decimal_places=2, help_text=_("An amount, or a percentage such as 10.00 for 10%.")
    )
    max_discount = MoneyField(_("largest discount"), null=True, blank=True, help_text=_("Cap for percentage coupons."))
    min_spend = MoneyField(_("minimum spend"), default=0)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="CNY")
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="+", verbose_name=_("products"))
    categories = models.ManyToManyField("catalog.Category", blank=True, related_name="+", verbose_name=_("categories"))
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    total_limit = models.PositiveIntegerField(_("total uses"), null=True, blank=True, help_text=_("Empty: no limit."))
    per_buyer_limit = models.PositiveIntegerField(_("uses per buyer"), default=1)
    used_count = models.PositiveIntegerField(_("used"), default=0)
    claimable = models.BooleanField(_("claimable from the shop page"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(funder="shop", vendor__isnull=False) | models.Q(funder="platform", vendor__isnull=True)
                ),
                name="coupon_funder_matches_shop",
            ),
            models.CheckConstraint(condition=models.Q(value__gt=0), name="coupon_value_positive"),
            models.CheckConstraint(
                condition=~models.Q(kind="percent") | models.Q(value__lte=100), name="coupon_percent_at_most_100"
            ),
            models.CheckConstraint(
                condition=models.Q(total_limit__isnull=True) | models.Q(used_count__lte=models.F("total_limit")),
                name="coupon_used_within_limit",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__gt=models.F("valid_from")), name="coupon_valid_period"
            ),
        ]

    def __str__(self) -> str:
        return self.code or self.name


class CouponClaim(models.Model):
    """A coupon a buyer took from a shop page: it waits in their wallet for checkout."""

    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, related_name="claims")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coupon_claims")
    claimed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["coupon", "user"], name="coupon_claim_once")]

    def __str__(self) -> str:
        return f"{self.coupon} claimed by {self.user_id}"


class CouponRedemption(models.Model):
    """A coupon used on an order. Released (and the use given back) when the order expires or is cancelled."""

    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="coupon_redemptions")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    amount = MoneyField(_("discount"))
    released_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["coupon", "order"], name="coupon_once_per_order")]
        indexes = [models.Index(fields=["coupon", "buyer"], name="coupon_redemption_buyer_idx")]

    def __str__(self) -> str:
        return f"{self.coupon} on order {self.order_id}"


# --- Returns and refund requests ------------------------------------------------------------


class ReturnRequest(models.Model):
    """A buyer's request to return goods or get money back for lines of one shop's order."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        ACCEPTED = "accepted", _("Accepted, awaiting the goods")
        REFUSED = "refused", _("Refused by the shop")
        DISPUTED = "disputed", _("Disputed, awaiting the platform")
        REFUNDED = "refunded", _("Refunded")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled by the buyer")

    class Kind(models.TextChoices):
        REFUND_ONLY = "refund_only", _("Refund only (goods not received or not needed back)")
        RETURN_AND_REFUND = "return_and_refund", _("Return the goods and refund")

    OPEN_STATUSES = ("requested", "accepted", "disputed")

    vendor_order = models.ForeignKey(VendorOrder, on_delete=models.PROTECT, related_name="returns")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="return_requests")
    number = models.CharField(max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.REQUESTED)
    reason = models.CharField(_("reason"), max_length=40)
    description = models.TextField(_("description"), blank=True)
    shipping_refund = MoneyField(_("shipping refund"), default=0)
    amount = MoneyField(_("refund amount"), default=0)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="CNY")
    vendor_note = models.TextField(_("shop's answer"), blank=True)
    admin_note = models.TextField(_("platform's decision"), blank=True)
    return_carrier = models.CharField(_("return carrier"), max_length=60, blank=True)
    return_tracking_number = models.CharField(_("return tracking number"), max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    goods_received_at = models.DateTimeField(null=True, blank=True)
    # Set once, by the conditional UPDATE that emits hooks.RETURN_REFUND_APPROVED: the refund is
    # then payments' business and the buyer can no longer cancel.
    refund_approved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["vendor_order", "status"], name="return_open_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0, shipping_refund__gte=0), name="return_amounts_not_negative"
            )
        ]

    def __str__(self) -> str:
        return self.number


class ReturnLine(models.Model):
    return_request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField()
    amount = MoneyField(_("refund amount"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="return_line_quantity_positive"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="return_line_amount_not_negative"),
            models.UniqueConstraint(fields=["return_request", "order_line"], name="return_line_once"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × line {self.order_line_id}"


class ReturnPhoto(models.Model):
    """A buyer's photo of what they return: private (the buyer, the shop's order staff and the
    platform's admins see it through `url`, never by a public media address)."""

    return_request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="returns/%Y/%m/", storage=private_storage)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"photo of {self.return_request_id}"

    @property
    def url(self) -> str:
        from django.urls import reverse

        return reverse("orders:return_photo", args=[self.return_request.number, self.pk])
