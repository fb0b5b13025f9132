from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import Address, ReturnRequest
from orders.services.returns import (
    CARRIER_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    MAX_PHOTOS,
    NOTE_MAX_LENGTH,
    REASONS,
    TRACKING_MAX_LENGTH,
)


class AddressForm(forms.ModelForm):
    class Meta:
        model = Address
        fields = ["recipient", "phone", "country", "region", "city", "district", "street", "postal_code", "is_default"]
        widgets = {"country": forms.TextInput(attrs={"size": 2, "maxlength": 2})}

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        digits = [c for c in phone if c.isdigit()]
        if len(digits) < 5 or any(not (c.isdigit() or c in "+-() ") for c in phone):
            raise forms.ValidationError(_("Enter a phone number (digits, spaces, +, - and brackets)."))
        return phone

    def clean_country(self) -> str:
        country = self.cleaned_data["country"].strip().upper()
        if len(country) != 2 or not country.isascii() or not country.isalpha():
            raise forms.ValidationError(_("Use the two-letter country code, e.g. CN."))
        return country


# --- Returns and refund requests --------------------------------------------------------------


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several photos in one input; each is checked by the service (marketplace.uploads)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleImageInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data]
        return [super(MultipleImageField, self).clean(file, initial) for file in files if file]


class ReturnRequestForm(forms.Form):
    """The buyer's request: one quantity field per line (quantity_<line id>), kind, reason,
    description, photos. Shape only: the service decides what may be returned and for how much."""

    kind = forms.ChoiceField(label=_("What do you want?"), widget=forms.RadioSelect)
    reason = forms.ChoiceField(label=_("Reason"))
    description = forms.CharField(
        label=_("Describe the problem"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    shipping_refund = forms.BooleanField(label=_("Also refund the shipping fee"), required=False)
    photos = MultipleImageField(label=_("Photos"), required=False)

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_photos = MAX_PHOTOS
        self.fields["kind"].choices = ReturnRequest.Kind.choices
        self.fields["reason"].choices = [("", "---------"), *REASONS]
        self.fields["description"].max_length = DESCRIPTION_MAX_LENGTH
        self.fields["description"].widget.attrs["maxlength"] = DESCRIPTION_MAX_LENGTH
        self.returnable = lines
        for row in lines:
            self.fields[f"quantity_{row.line.pk}"] = forms.IntegerField(
                label=row.line.product_title, min_value=0, max_value=row.available, initial=0, required=False
            )

    def quantity_rows(self) -> list[dict]:
        return [{"row": row, "field": self[f"quantity_{row.line.pk}"]} for row in self.returnable]

    def clean(self):
        cleaned = super().clean()
        if not self.selected_lines():
            raise forms.ValidationError(_("Choose at least one item and how many units."))
        if len(cleaned.get("photos") or []) > self.max_photos:
            self.add_error("photos", _("Attach at most %(limit)s photos.") % {"limit": self.max_photos})
        return cleaned

    def selected_lines(self) -> list[tuple]:
        return [
            (row.line, self.cleaned_data.get(f"quantity_{row.line.pk}") or 0)
            for row in self.returnable
            if self.cleaned_data.get(f"quantity_{row.line.pk}")
        ]


class ReturnNoteForm(forms.Form):
    note = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=NOTE_MAX_LENGTH)


class ReturnShipBackForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=CARRIER_MAX_LENGTH)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=TRACKING_MAX_LENGTH)
