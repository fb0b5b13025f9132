from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import Address


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
