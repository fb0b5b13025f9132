import factory

from marketplace.tests.factories import UserFactory
from vendors.models import LegalKind, Role, ShippingTemplate, ShopType, Vendor, VendorMember


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor

    name = factory.Sequence(lambda n: f"Shop {n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")
    legal_kind = LegalKind.BUSINESS
    shop_type = ShopType.BRAND
    contact_email = factory.Sequence(lambda n: f"shop{n}@example.com")


class VendorMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VendorMember

    vendor = factory.SubFactory(VendorFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OWNER


class ShippingTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShippingTemplate

    vendor = factory.SubFactory(VendorFactory)
    name = "Standard"
    base_fee = "10.00"
    per_item_fee = "0.00"
    free_over = "99.00"
    # Only one default per shop (a database constraint): the first template a shop gets is it.
    is_default = factory.LazyAttribute(
        lambda o: not ShippingTemplate.objects.filter(vendor=o.vendor, is_default=True).exists()
    )
