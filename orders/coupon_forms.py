"""The shop's coupon form: shape of the input only. The rules (code format, amounts in the
shop's currency, percentages, period, limits) are orders.services.coupons', whose errors are
put back on the field they name."""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import Category, Product
from marketplace.errors import DomainError
from orders.models import Coupon
from vendors.models import Vendor

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class CouponForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120, help_text=_("What buyers see, e.g. “Spring tea sale”."))
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        required=False,
        help_text=_("Buyers type it at checkout (letters, digits, - and _). Leave empty for a claim-only coupon."),
    )
    claimable = forms.BooleanField(label=_("Buyers can claim it on the shop page"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=Coupon.Kind.choices)
    value = forms.CharField(
        label=_("Value"),
        max_length=20,
        help_text=_("An amount, or a percentage such as 10 for ten percent off."),
    )
    max_discount = forms.CharField(
        label=_("Largest discount"), max_length=20, required=False, help_text=_("For percentages; empty: no cap.")
    )
    min_spend = forms.CharField(
        label=_("Minimum spend"),
        max_length=20,
        required=False,
        help_text=_("On the items the coupon applies to, before the discount."),
    )
    valid_from = forms.DateTimeField(label=_("Valid from"), widget=DATETIME_WIDGET)
    valid_until = forms.DateTimeField(label=_("Valid until"), widget=DATETIME_WIDGET)
    total_limit = forms.IntegerField(
        label=_("Total uses"), min_value=1, required=False, help_text=_("Empty: no limit.")
    )
    per_buyer_limit = forms.IntegerField(label=_("Uses per buyer"), min_value=1, initial=1)
    products = forms.ModelMultipleChoiceField(
        label=_("Only these products"),
        queryset=Product.objects.none(),
        required=False,
        help_text=_("Empty (and no category): every product of the shop."),
    )
    categories = forms.ModelMultipleChoiceField(
        label=_("Only these categories"),
        queryset=Category.objects.order_by("path", "id"),
        required=False,
        help_text=_("A category includes its subcategories."),
    )

    def __init__(self, *args, vendor: Vendor, **kwargs):
        kwargs.setdefault("initial", {})
        now = timezone.localtime().replace(second=0, microsecond=0)
        kwargs["initial"].setdefault("valid_from", now)
        kwargs["initial"].setdefault("valid_until", now + timedelta(days=30))
        super().__init__(*args, **kwargs)
        self.fields["products"].queryset = Product.objects.filter(vendor=vendor).order_by("-created_at", "-id")
        self.fields["value"].label = _("Value (%(currency)s or %%)") % {"currency": vendor.currency}

    def add_service_error(self, error: DomainError) -> None:
        field = getattr(error, "field", None)
        self.add_error(field if field in self.fields else None, str(error))
