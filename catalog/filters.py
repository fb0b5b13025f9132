"""Parsing of the listing filters, once for pages (a form) and the API (a django-filter set).

Both accept the same parameters: q / search, min_price, max_price, shop (slug), category (slug),
attr (repeatable: "colour:red" or a bare value slug), in_stock=1, sort / ordering.
"""

import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from catalog.models import Category
from catalog.selectors import MAX_ATTRIBUTE_FILTERS, ProductFilters, listing_counts, product_list
from marketplace.money import MAX_AMOUNT
from vendors.models import Vendor

SORT_CHOICES = [
    ("newest", _("Newest")),
    ("price", _("Price: low to high")),
    ("-price", _("Price: high to low")),
    ("best_selling", _("Best selling")),
    ("relevance", _("Relevance")),
]
_ATTRIBUTE_SLUG_RE = re.compile(r"^(?:[-\w]{1,60}:)?[-\w]{1,60}$")
TRUE_VALUES = {"1", "true", "on", "yes"}


class SlugListField(forms.Field):
    """A repeated GET parameter of attribute value slugs."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        return [str(item).strip() for item in value if str(item).strip()]

    def validate(self, value):
        super().validate(value)
        if len(value) > MAX_ATTRIBUTE_FILTERS:
            raise ValidationError(_("Choose at most %(n)d attribute values."), params={"n": MAX_ATTRIBUTE_FILTERS})
        for item in value:
            if not _ATTRIBUTE_SLUG_RE.match(item):
                raise ValidationError(_("“%(value)s” is not an attribute value."), params={"value": item[:60]})


class FlagField(forms.Field):
    """in_stock=1 / true / on; anything else is off."""

    widget = forms.TextInput

    def to_python(self, value):
        return str(value).strip().lower() in TRUE_VALUES if value is not None else False


def _price_field(label):
    return forms.DecimalField(
        label=label, required=False, min_value=0, max_value=MAX_AMOUNT, max_digits=14, decimal_places=2
    )


class ListingForm(forms.Form):
    """The sidebar's filters. Pages keep the valid fields and show the errors of the others."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    min_price = _price_field(_("Lowest price"))
    max_price = _price_field(_("Highest price"))
    shop = forms.ModelChoiceField(
        label=_("Shop"),
        required=False,
        queryset=Vendor.objects.filter(status=Vendor.Status.ACTIVE),
        to_field_name="slug",
        error_messages={"invalid_choice": _("There is no such shop.")},
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        required=False,
        queryset=Category.objects.all(),
        to_field_name="slug",
        error_messages={"invalid_choice": _("There is no such category.")},
    )
    attr = SlugListField(label=_("Attributes"), required=False)
    in_stock = FlagField(label=_("In stock only"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)

    def clean(self):
        data = super().clean()
        low, high = data.get("min_price"), data.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error("max_price", _("The highest price must not be below the lowest."))
        return data

    def listing_kwargs(self) -> dict:
        """product_list keyword arguments from the valid fields (invalid ones are left out)."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "query": data.get("q") or None,
            "category": data.get("category"),
            "vendor": data.get("shop"),
            "min_price": data.get("min_price"),
            "max_price": data.get("max_price"),
            "attribute_value_slugs": data.get("attr") or [],
            "in_stock": bool(data.get("in_stock")),
        }


# --- API ----------------------------------------------------------------------------------


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class AttributeSlugsFilter(django_filters.Filter):
    field_class = SlugListField


@extend_schema_field(OpenApiTypes.BOOL)
class FlagFilter(django_filters.Filter):
    field_class = FlagField


@extend_schema_field(OpenApiTypes.STR)
class SlugChoiceFilter(django_filters.ModelChoiceFilter):
    """A related object named by its slug."""


class ProductFilterSet(django_filters.FilterSet):
    """The public product list's parameters; filtering itself is `product_list`."""

    search = django_filters.CharFilter(
        max_length=200, help_text="Words to search in titles, descriptions, shops, SKUs."
    )
    category = SlugChoiceFilter(
        queryset=Category.objects.all(), to_field_name="slug", help_text="Category slug (its subtree is included)."
    )
    shop = SlugChoiceFilter(
        queryset=Vendor.objects.filter(status=Vendor.Status.ACTIVE), to_field_name="slug", help_text="Shop slug."
    )
    min_price = django_filters.NumberFilter(min_value=0, max_value=MAX_AMOUNT, max_digits=14, decimal_places=2)
    max_price = django_filters.NumberFilter(min_value=0, max_value=MAX_AMOUNT, max_digits=14, decimal_places=2)
    attr = AttributeSlugsFilter(help_text='Attribute values, repeatable: "colour:red" or "red".')
    in_stock = FlagFilter(help_text="1 for products with stock only.")
    ordering = django_filters.ChoiceFilter(
        choices=SORT_CHOICES, help_text="newest (default), price, -price, best_selling, relevance."
    )

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        kwargs = {
            "query": data.get("search") or None,
            "category": data.get("category"),
            "vendor": data.get("shop"),
            "min_price": data.get("min_price"),
            "max_price": data.get("max_price"),
            "attribute_value_slugs": tuple(data.get("attr") or ()),
            "in_stock": bool(data.get("in_stock")),
        }
        default_sort = "relevance" if kwargs["query"] else "newest"
        products = product_list(**kwargs, sort=data.get("ordering") or default_sort)
        # The pagination reads the count from the (cached) facet counts, not COUNT(*).
        products.known_count = listing_counts(ProductFilters(**kwargs)).total
        return products
