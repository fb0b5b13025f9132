import factory

from catalog.models import Category, Product, ProductVariant
from vendors.tests.factories import VendorFactory


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    """Builds rows directly; tests that need the catalog's derived fields (prices, stock,
    search) call catalog.services.product_refresh_derived afterwards, as services do."""

    class Meta:
        model = Product

    vendor = factory.SubFactory(VendorFactory)
    category = factory.SubFactory(CategoryFactory)
    title = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    status = Product.Status.ACTIVE
    min_price = "50.00"
    max_price = "50.00"
    total_stock = 10


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductVariant

    product = factory.SubFactory(ProductFactory)
    vendor = factory.SelfAttribute("product.vendor")
    sku = factory.Sequence(lambda n: f"SKU-{n}")
    name = "Default"
    price = "50.00"
    stock = 10
