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


# --- Helpers for catalog listing and search tests (added by the catalog pages work) ---------


def make_category(name: str, *, parent=None, slug: str | None = None, position: int = 0):
    """A category placed in the tree (path and depth set), as the admin saves it."""
    from django.utils.text import slugify

    from catalog.categories import category_save

    category = Category(name=name, slug=slug or slugify(name), parent=parent, position=position)
    return category_save(category=category)


def product_derive(product) -> None:
    """Recompute the fields listings read (price range, stock, search document and vector),
    as catalog services do after every write."""
    from django.db.models import Max, Min, Sum

    from catalog.search import search_document_for, search_refresh

    variants = ProductVariant.objects.filter(product=product, is_active=True)
    totals = variants.aggregate(low=Min("price"), high=Max("price"), stock=Sum("stock"))
    product.min_price = totals["low"] or 0
    product.max_price = totals["high"] or 0
    product.total_stock = totals["stock"] or 0
    vendor = product.vendor
    product.search_document = search_document_for(
        titles=[t for t in (product.title_en, product.title_zh_hans) if t],
        descriptions=[d for d in (product.description_en, product.description_zh_hans) if d],
        vendor_names=[n for n in (vendor.name_en, vendor.name_zh_hans) if n],
        skus=list(variants.values_list("sku", flat=True)),
    )
    product.save(update_fields=["min_price", "max_price", "total_stock", "search_document"])
    search_refresh(product_ids=[product.pk])


def make_product(
    *,
    vendor=None,
    category=None,
    title: str = "",
    title_zh_hans: str | None = None,
    description: str = "",
    variants: list[dict] | None = None,
    **fields,
):
    """A product with variants (default: one at 50.00 with 10 in stock) and its derived fields.
    Each variant dict may give sku, name, price, compare_at_price, stock, is_active and
    attribute_values (a list of AttributeValue)."""
    extra = {"title": title} if title else {}
    if vendor is not None:
        extra["vendor"] = vendor
    if category is not None:
        extra["category"] = category
    product = ProductFactory(description=description, **extra, **fields)
    if title_zh_hans is not None:
        product.title_zh_hans = title_zh_hans
        product.save(update_fields=["title_zh_hans"])
    for spec in variants if variants is not None else [{}]:
        spec = dict(spec)
        values = spec.pop("attribute_values", [])
        variant = VariantFactory(product=product, **spec)
        if values:
            variant.attribute_values.set(values)
    product_derive(product)
    return product


def make_market(*, shop_a, shop_b):
    """A small market for listing tests: a category tree, two attributes, products of two
    shops, and products that must never show (hidden, draft, banned, suspended shop)."""
    from types import SimpleNamespace

    from catalog.models import Attribute, AttributeValue
    from vendors.models import Vendor
    from vendors.tests.factories import VendorFactory

    electronics = make_category("Electronics", position=1)
    phones = make_category("Phones", parent=electronics)
    smartphones = make_category("Smartphones", parent=phones)
    audio = make_category("Audio", parent=electronics, position=2)
    home = make_category("Home", position=2)
    tea = make_category("Tea", parent=home)
    colour = Attribute.objects.create(name="Colour", slug="colour")
    storage = Attribute.objects.create(name="Storage", slug="storage")
    red = AttributeValue.objects.create(attribute=colour, value="Red", slug="red")
    black = AttributeValue.objects.create(attribute=colour, value="Black", slug="black")
    gb128 = AttributeValue.objects.create(attribute=storage, value="128 GB", slug="128gb")
    gb256 = AttributeValue.objects.create(attribute=storage, value="256 GB", slug="256gb")

    teapot = make_product(
        vendor=shop_a,
        category=tea,
        title="Clay teapot",
        variants=[{"sku": "TP-1", "price": "299.00", "stock": 3, "attribute_values": [black]}],
    )
    green_tea = make_product(
        vendor=shop_a, category=tea, title="Green tea", variants=[{"sku": "GT-1", "price": "59.00", "stock": 0}]
    )
    phone_x = make_product(
        vendor=shop_b,
        category=smartphones,
        title="Phone X",
        variants=[
            {"sku": "PX-B128", "price": "1999.00", "stock": 5, "attribute_values": [black, gb128]},
            {"sku": "PX-R256", "price": "2399.00", "stock": 0, "attribute_values": [red, gb256]},
        ],
    )
    earbuds = make_product(
        vendor=shop_b,
        category=audio,
        title="Earbuds",
        variants=[{"sku": "EB-1", "price": "199.00", "stock": 7, "attribute_values": [black]}],
    )
    phone_y = make_product(
        vendor=shop_b,
        category=smartphones,
        title="Phone Y",
        variants=[{"sku": "PY-R", "price": "999.00", "stock": 2, "attribute_values": [red, gb128]}],
    )
    hidden = make_product(vendor=shop_b, category=smartphones, title="Hidden phone", status="hidden")
    draft = make_product(vendor=shop_b, category=smartphones, title="Draft phone", status="draft")
    banned = make_product(vendor=shop_b, category=smartphones, title="Banned phone", is_banned=True, ban_reason="x")
    closed_shop = VendorFactory(name="Closed Shop", slug="closed-shop", status=Vendor.Status.SUSPENDED)
    suspended = make_product(vendor=closed_shop, category=smartphones, title="Suspended shop phone")
    return SimpleNamespace(**locals())
