"""Form validation for the vendors pages. Rules live in vendors.services; forms check shape
and show the services' errors next to the right field."""

from django import forms
from django.utils.translation import gettext_lazy as _

from marketplace.errors import InvalidUpload
from marketplace.uploads import validate_document, validate_image
from vendors.errors import BusinessLicenceNumberInvalid, DocumentCountInvalid, LicenceNumberInvalid, SlugTaken
from vendors.identity import licence_number_valid, normalize_licence_number
from vendors.models import LegalKind, Role, ShippingTemplate, VendorApplication
from vendors.regions import OTHER_REGIONS_HELP, REGION_CHOICES, REGION_NAMES
from vendors.selectors import vendor_slug_is_free
from vendors.services import DOCUMENTS_MAX, DOCUMENTS_MIN


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(file, initial) for file in files]


def _phone(value: str) -> str:
    value = " ".join((value or "").split())
    digits = sum(char.isdigit() for char in value)
    if value and (not all(char.isdigit() or char in "+- ()" for char in value) or "+" in value[1:] or digits < 6):
        raise forms.ValidationError(_("Enter a phone number: digits, spaces, dashes and a leading + only."))
    return value


class VendorApplicationForm(forms.ModelForm):
    documents = MultipleFileField(
        label=_("Documents"),
        required=False,
        help_text=_("Business licence or ID card scans: 1 to 5 files, PDF or images (JPEG, PNG, WebP)."),
        widget=MultipleFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png,image/webp"}),
    )

    class Meta:
        model = VendorApplication
        fields = [
            "shop_name",
            "slug",
            "legal_kind",
            "shop_type",
            "contact_name",
            "contact_email",
            "contact_phone",
            "licence_number",
            "description",
        ]
        help_texts = {
            "slug": _("Your shop's web address, /s/your-address/: lower-case letters, digits and dashes."),
            "licence_number": _(
                "Businesses: the 18-character unified social credit code. Individuals: ID card or passport number."
            ),
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].strip().lower()
        if not vendor_slug_is_free(slug=slug):
            raise forms.ValidationError(str(SlugTaken(slug=slug)), code=SlugTaken.code)
        return slug

    def clean_contact_phone(self) -> str:
        return _phone(self.cleaned_data.get("contact_phone", ""))

    def clean_documents(self) -> list:
        files = self.cleaned_data.get("documents") or []
        if not DOCUMENTS_MIN <= len(files) <= DOCUMENTS_MAX:
            error = DocumentCountInvalid(minimum=DOCUMENTS_MIN, maximum=DOCUMENTS_MAX)
            raise forms.ValidationError(str(error), code=error.code)
        errors = []
        for file in files:
            try:
                validate_document(file)
            except InvalidUpload as exc:
                errors.append(forms.ValidationError("%(name)s: %(error)s", params={"name": file.name, "error": exc}))
        if errors:
            raise forms.ValidationError(errors)
        return files

    def clean(self) -> dict:
        data = super().clean()
        number = normalize_licence_number(data.get("licence_number", ""))
        kind = data.get("legal_kind")
        if number and kind and not licence_number_valid(number=number, legal_kind=kind):
            error = BusinessLicenceNumberInvalid() if kind == LegalKind.BUSINESS else LicenceNumberInvalid()
            self.add_error("licence_number", forms.ValidationError(str(error), code=error.code))
        data["licence_number"] = number
        return data


class ReasonForm(forms.Form):
    """The reason admins give for a rejection or a suspension (the affected people read it)."""

    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 4, "cols": 60}), max_length=2000)

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("A reason is required."))
        return reason


class StaffAddForm(forms.Form):
    email = forms.EmailField(label=_("E-mail of their account"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.STAFF)


class StaffRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class ShopSwitchForm(forms.Form):
    vendor = forms.IntegerField(min_value=1)


class ShippingTemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    base_fee = forms.DecimalField(
        label=_("Fee per order"), min_value=0, max_digits=11, decimal_places=2, initial="0.00"
    )
    per_item_fee = forms.DecimalField(
        label=_("Fee per item"), min_value=0, max_digits=11, decimal_places=2, initial="0.00"
    )
    free_over = forms.DecimalField(
        label=_("Free shipping over"),
        min_value=0,
        max_digits=11,
        decimal_places=2,
        required=False,
        help_text=_("Leave empty for never free."),
    )
    excluded_regions = forms.MultipleChoiceField(
        label=_("Regions not served"), choices=REGION_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    other_regions = forms.CharField(label=_("Other places not served"), required=False, help_text=OTHER_REGIONS_HELP)
    is_default = forms.BooleanField(label=_("Default template"), required=False)

    @classmethod
    def initial_for(cls, template: ShippingTemplate) -> dict:
        regions = template.excluded_regions or []
        return {
            "name": template.name,
            "base_fee": template.base_fee,
            "per_item_fee": template.per_item_fee,
            "free_over": template.free_over,
            "excluded_regions": [region for region in regions if region in REGION_NAMES],
            "other_regions": ", ".join(region for region in regions if region not in REGION_NAMES),
            "is_default": template.is_default,
        }

    def regions(self) -> list[str]:
        other = self.cleaned_data.get("other_regions", "").replace("，", ",").replace("、", ",")
        return list(self.cleaned_data.get("excluded_regions", [])) + [part for part in other.split(",") if part.strip()]


class ShopProfileForm(forms.Form):
    name_en = forms.CharField(label=_("Shop name (English)"), max_length=120)
    name_zh_hans = forms.CharField(label=_("Shop name (Chinese)"), max_length=120, required=False)
    description_en = forms.CharField(
        label=_("Description (English)"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    description_zh_hans = forms.CharField(
        label=_("Description (Chinese)"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    contact_email = forms.EmailField(label=_("Contact e-mail"))
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=32, required=False)
    banner = forms.FileField(label=_("Banner"), required=False, widget=forms.FileInput(attrs={"accept": "image/*"}))
    logo = forms.FileField(label=_("Logo"), required=False, widget=forms.FileInput(attrs={"accept": "image/*"}))

    def clean_contact_phone(self) -> str:
        return _phone(self.cleaned_data.get("contact_phone", ""))

    def _image(self, field: str):
        upload = self.cleaned_data.get(field)
        if upload:
            try:
                validate_image(upload)
            except InvalidUpload as exc:
                raise forms.ValidationError(str(exc)) from None
        return upload or None

    def clean_banner(self):
        return self._image("banner")

    def clean_logo(self):
        return self._image("logo")
