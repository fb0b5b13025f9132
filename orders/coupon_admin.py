"""Coupons in the Django admin: the platform's own coupons (funded by the platform's
promotions account) are created and kept here; shops' coupons are visible for oversight."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from orders.models import Coupon, CouponRedemption
from orders.services.coupons import CouponInvalid, coupon_code_clean, coupon_deactivate


class CouponAdminForm(forms.ModelForm):
    class Meta:
        model = Coupon
        fields = [
            "name",
            "code",
            "funder",
            "vendor",
            "kind",
            "value",
            "max_discount",
            "min_spend",
            "currency",
            "products",
            "categories",
            "valid_from",
            "valid_until",
            "total_limit",
            "per_buyer_limit",
            "claimable",
            "is_active",
        ]

    def clean_code(self) -> str | None:
        try:
            return coupon_code_clean(self.cleaned_data.get("code"))
        except CouponInvalid as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("funder") == Coupon.Funder.PLATFORM and cleaned.get("vendor"):
            self.add_error("vendor", _("A platform coupon belongs to no shop."))
        if cleaned.get("funder") == Coupon.Funder.SHOP and not cleaned.get("vendor"):
            self.add_error("vendor", _("A shop coupon needs its shop."))
        if not cleaned.get("code") and not cleaned.get("claimable"):
            self.add_error("code", _("Give the coupon a code, or make it claimable."))
        return cleaned


class CouponRedemptionInline(admin.TabularInline):
    model = CouponRedemption
    extra = 0
    can_delete = False
    fields = ["order", "buyer", "amount", "created_at", "released_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    form = CouponAdminForm
    list_display = [
        "name",
        "code",
        "funder",
        "vendor",
        "kind",
        "value",
        "min_spend",
        "currency",
        "valid_from",
        "valid_until",
        "used_count",
        "total_limit",
        "is_active",
    ]
    list_filter = ["funder", "kind", "is_active", "claimable", "currency", "valid_until"]
    search_fields = ["code", "name", "vendor__name"]
    list_select_related = ["vendor"]
    raw_id_fields = ["vendor", "products"]
    filter_horizontal = ["categories"]
    readonly_fields = ["used_count", "created_at"]
    inlines = [CouponRedemptionInline]
    actions = ["deactivate"]

    def get_changeform_initial_data(self, request) -> dict:
        return {"funder": Coupon.Funder.PLATFORM, **super().get_changeform_initial_data(request)}

    def has_delete_permission(self, request, obj=None) -> bool:
        # A coupon used on an order is history (the split reads who funded it): deactivate it.
        return obj is None or not obj.redemptions.exists()

    @admin.action(description=_("Deactivate the selected coupons"))
    def deactivate(self, request, queryset):
        count = sum(1 for coupon in queryset if coupon_deactivate(coupon=coupon, actor=request.user))
        self.message_user(request, _("%(count)d coupon(s) deactivated.") % {"count": count}, messages.SUCCESS)
