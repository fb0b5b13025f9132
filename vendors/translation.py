from modeltranslation.translator import TranslationOptions, register

from vendors.models import Vendor


@register(Vendor)
class VendorTranslation(TranslationOptions):
    fields = ("name", "description")
