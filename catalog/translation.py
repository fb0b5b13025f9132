from modeltranslation.translator import TranslationOptions, register

from catalog.models import Attribute, AttributeValue, Category, Product


@register(Category)
class CategoryTranslation(TranslationOptions):
    fields = ("name",)


@register(Product)
class ProductTranslation(TranslationOptions):
    fields = ("title", "description")


@register(Attribute)
class AttributeTranslation(TranslationOptions):
    fields = ("name",)


@register(AttributeValue)
class AttributeValueTranslation(TranslationOptions):
    fields = ("value",)
