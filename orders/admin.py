from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.errors import DomainError
from orders import coupon_admin, return_admin  # noqa: F401 - register the coupons' and returns' admin
from orders.models import Address, Cart, CartLine, Order, OrderEvent, OrderLine, VendorOrder
from orders.services.checkout import orders_expire_due
from orders.services.fulfilment import vendor_order_complete


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class VendorOrderInline(ReadOnlyInline):
    model = VendorOrder
    fields = [
        "number",
        "vendor",
        "status",
        "items_total",
        "shipping_total",
        "shop_discount",
        "platform_discount",
        "total",
        "carrier",
        "tracking_number",
    ]
    readonly_fields = fields


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = [
        "product_title",
        "variant_name",
        "sku",
        "unit_price",
        "quantity",
        "line_total",
        "shop_discount",
        "platform_discount",
        "referrer",
        "referral_rate",
    ]
    readonly_fields = fields


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["created_at", "type", "vendor_order", "actor", "data"]
    readonly_fields = fields
    show_change_link = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "buyer", "status", "grand_total", "currency", "created_at", "expires_at", "paid_at"]
    list_filter = ["status", "created_at", "currency"]
    search_fields = ["number", "buyer__email"]
    date_hierarchy = "created_at"
    list_select_related = ["buyer"]
    inlines = [VendorOrderInline, OrderEventInline]
    actions = ["expire_due_now"]
    # Orders change only through their services (state machine, stock): read-only here.
    readonly_fields = [
        "number",
        "buyer",
        "status",
        "currency",
        "items_total",
        "shipping_total",
        "discount_total",
        "grand_total",
        "shipping_address",
        "expires_at",
        "paid_at",
        "cancelled_at",
        "created_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Expire every unpaid order past its deadline now"))
    def expire_due_now(self, request, queryset):
        count = orders_expire_due(now=timezone.now())
        self.message_user(request, _("%(count)d order(s) expired.") % {"count": count}, messages.SUCCESS)


@admin.register(VendorOrder)
class VendorOrderAdmin(admin.ModelAdmin):
    list_display = ["number", "vendor", "status", "total", "carrier", "tracking_number", "created_at"]
    list_filter = ["status", "vendor", "created_at"]
    search_fields = ["number", "order__number", "order__buyer__email", "tracking_number"]
    list_select_related = ["vendor"]
    inlines = [OrderLineInline]
    readonly_fields = [
        "order",
        "vendor",
        "number",
        "status",
        "currency",
        "items_total",
        "shipping_total",
        "shop_discount",
        "platform_discount",
        "total",
        "shipping_method",
        "carrier",
        "tracking_number",
        "paid_at",
        "shipped_at",
        "delivered_at",
        "completed_at",
        "cancelled_at",
        "created_at",
    ]

    actions = ["complete_delivered"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Complete the selected delivered shop orders"))
    def complete_delivered(self, request, queryset):
        done = 0
        for vendor_order in queryset.filter(status=VendorOrder.Status.DELIVERED).select_related("order", "vendor"):
            try:
                vendor_order_complete(vendor_order=vendor_order, actor=request.user)
                done += 1
            except DomainError as error:
                self.message_user(request, f"{vendor_order.number}: {error}", messages.WARNING)
        self.message_user(request, _("%(count)d shop order(s) completed.") % {"count": done}, messages.SUCCESS)


class CartLineInline(admin.TabularInline):
    model = CartLine
    extra = 0
    fields = ["variant", "quantity", "price_when_added", "added_at"]
    readonly_fields = ["added_at"]
    raw_id_fields = ["variant"]


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "session_key", "created_at", "updated_at"]
    list_filter = [("user", admin.EmptyFieldListFilter), "updated_at"]
    search_fields = ["user__email", "session_key"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    inlines = [CartLineInline]


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["recipient", "user", "phone", "region", "city", "is_default"]
    list_filter = ["country", "region", "is_default"]
    search_fields = ["recipient", "phone", "user__email", "city", "street"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]


@admin.register(OrderEvent)
class OrderEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "order", "vendor_order", "type", "actor"]
    list_filter = ["type", "created_at"]
    search_fields = ["order__number", "vendor_order__number", "actor__email"]
    list_select_related = ["order", "vendor_order", "actor"]
    readonly_fields = ["order", "vendor_order", "actor", "type", "data", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
