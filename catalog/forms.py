"""Forms of the shop's product dashboard: shape of the input only. The rules (titles, SKU codes,
prices, images) live in catalog.services, whose errors are put back on these forms."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from catalog.models import Category, Product
from catalog.services import ProductInvalid
from catalog.services.validation import attributes_format, attributes_parse
from marketplace.errors import DomainError


def form_error_from(form: forms.Form, exc: DomainError) -> None:
    """Show a service's error on the field it names, or above the form."""
    field = getattr(exc, "field", None)
    form.add_error(field if field in form.fields else None, str(exc))


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return f"{'— ' * obj.depth}{obj.name}"


class ProductForm(forms.Form):
    title_en = forms.CharField(label=_("Title (English)"), max_length=200, required=False)
    title_zh_hans = forms.CharField(label=_("Title (Chinese)"), max_length=200, required=False)
    category = CategoryChoiceField(label=_("Category"), queryset=Category.objects.order_by("path", "id"))
    description_en = forms.CharField(
        label=_("Description (English)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Paragraphs, bold, italics, lists, headings, links and images are kept; anything else is removed."),
    )
    description_zh_hans = forms.CharField(
        label=_("Description (Chinese)"), required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    # Text, not a DecimalField: the range (0 to the platform's maximum) is the service's rule,
    # and its message comes back on this field.
    referral_rate = forms.CharField(
        label=_("Referral commission rate"),
        max_length=10,
        required=False,
        initial="0",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 8}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referral_rate"].help_text = _(
            "Paid, out of your share, to whoever shared the product with the buyer: 0.0500 = 5%% of what the "
            "buyer pays for it. At most %(max)s."
        ) % {"max": settings.REFERRAL_RATE_MAX}

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("title_en") or "").strip() and not (cleaned.get("title_zh_hans") or "").strip():
            self.add_error("title_en", _("A product needs a title in English or in Chinese."))
        return cleaned

    @classmethod
    def initial_for(cls, product: Product) -> dict:
        return {
            "title_en": product.title_en or "",
            "title_zh_hans": product.title_zh_hans or "",
            "category": product.category_id,
            "description_en": product.description_en or "",
            "description_zh_hans": product.description_zh_hans or "",
            "referral_rate": product.referral_rate,
        }


class VariantForm(forms.Form):
    sku = forms.CharField(label=_("SKU code"), max_length=64)
    name = forms.CharField(label=_("Variant"), max_length=120, required=False)
    price = forms.CharField(
        label=_("Price"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 8})
    )
    compare_at_price = forms.CharField(
        label=_("Compare-at price"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 8}),
    )
    stock = forms.IntegerField(
        label=_("Stock"), min_value=0, initial=0, widget=forms.NumberInput(attrs={"style": "width:6em"})
    )
    weight_grams = forms.IntegerField(
        label=_("Weight (g)"), min_value=0, initial=0, widget=forms.NumberInput(attrs={"style": "width:6em"})
    )
    attributes = forms.CharField(
        label=_("Options"),
        required=False,
        max_length=500,
        help_text=_("e.g. Colour: Red; Size: M"),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def clean_attributes(self) -> dict[str, str]:
        try:
            return attributes_parse(self.cleaned_data.get("attributes"))
        except ProductInvalid as exc:
            raise forms.ValidationError(str(exc)) from None

    @classmethod
    def initial_for(cls, variant) -> dict:
        return {
            "sku": variant.sku,
            "name": variant.name,
            "price": variant.price,
            "compare_at_price": "" if variant.compare_at_price is None else variant.compare_at_price,
            "stock": variant.stock,
            "weight_grams": variant.weight_grams,
            "attributes": attributes_format(
                [(value.attribute.name, value.value) for value in variant.attribute_values.all()]
            ),
            "is_active": variant.is_active,
        }


class ImageUploadForm(forms.Form):
    # A FileField, not an ImageField: the upload checks (type by content, size, pixel count)
    # are marketplace.uploads.validate_image, called by the service, with its clear messages.
    image = forms.FileField(label=_("Image"), widget=forms.ClearableFileInput(attrs={"accept": "image/*"}))
    alt = forms.CharField(label=_("Description for screen readers"), max_length=200, required=False)


class CsvImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))
