"""`manage.py seed_demo`: the demo marketplace a newcomer sees after `make run`."""

import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import Count, Max, Min

from catalog.models import Attribute, AttributeValue, Category, Product, ProductImage, ProductVariant
from marketplace.models import User
from orders.demo import ADMIN_EMAIL, DEMO_PASSWORD
from orders.models import Address
from vendors.models import Role, ShippingTemplate, ShopType, Vendor, VendorMember

pytestmark = pytest.mark.django_db(transaction=False)

CJK = re.compile(r"[\u4e00-\u9fff]")


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--products", "40", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def counts() -> dict[str, int]:
    through = ProductVariant.attribute_values.through
    models = [User, Vendor, VendorMember, ShippingTemplate, Category, Attribute, AttributeValue, Product]
    models += [ProductVariant, ProductImage, Address, through]
    return {model.__name__: model.objects.count() for model in models}


def test_running_it_twice_creates_nothing_the_second_time():
    seed()
    first = counts()
    output = seed()
    assert counts() == first
    assert first["Product"] == 40
    assert "Created nothing" in output


def test_a_larger_catalog_grows_the_same_products():
    seed()
    slugs = set(Product.objects.values_list("slug", flat=True))
    seed("--products", "60")
    assert Product.objects.count() == 60
    assert slugs < set(Product.objects.values_list("slug", flat=True))


def test_shops_of_every_kind_with_bilingual_names_staff_and_shipping():
    seed()
    shops = Vendor.objects.all()
    assert shops.count() >= 8
    assert {shop.shop_type for shop in shops} == set(ShopType.values)
    assert {shop.legal_kind for shop in shops} == {"individual", "business"}
    for shop in shops:
        assert shop.name_en and CJK.search(shop.name_zh_hans), shop.slug
        assert shop.description_en and shop.description_zh_hans
        assert shop.shipping_templates.filter(is_default=True).count() == 1
        owner = VendorMember.objects.get(vendor=shop, role=Role.OWNER).user
        assert owner.email == f"owner@{shop.slug}.shequn.test"
    roles = set(VendorMember.objects.filter(vendor__slug="tea-house").values_list("role", flat=True))
    assert roles == {Role.OWNER, Role.MANAGER, Role.STAFF}
    assert any("西藏自治区" in t.excluded_regions for t in ShippingTemplate.objects.all())
    assert ShippingTemplate.objects.filter(free_over__isnull=False).exists()


def test_category_tree_is_three_levels_with_paths():
    seed()
    assert Category.objects.aggregate(deepest=Max("depth"))["deepest"] == 2
    for category in Category.objects.select_related("parent"):
        assert category.name_en and CJK.search(category.name_zh_hans)
        if category.parent is None:
            assert category.depth == 0
        else:
            assert category.depth == category.parent.depth + 1
            assert category.path.startswith(category.parent.path) and category.path != category.parent.path
    # Products sit in the leaves.
    assert set(Product.objects.values_list("category__depth", flat=True)) == {2}


def test_products_have_both_titles_variants_images_and_derived_fields():
    seed()
    products = Product.objects.annotate(
        variant_count=Count("variants", distinct=True),
        image_count=Count("images", distinct=True),
        lowest=Min("variants__price"),
        highest=Max("variants__price"),
    )
    chinese_only = english = 0
    for product in products.select_related("vendor"):
        assert CJK.search(product.title_zh_hans), product.title_zh_hans
        if product.vendor.shop_type in ("individual", "wholesaler"):
            # Domestic sellers write one Chinese title; English visitors see it too.
            assert product.title_en == product.title_zh_hans
            chinese_only += 1
        else:
            assert product.title_en and not CJK.search(product.title_en), product.title_en
            english += 1
        assert "<p>" in product.description_en and CJK.search(product.description_zh_hans)
        assert 1 <= product.variant_count <= 4
        assert product.image_count >= 1
        assert (product.min_price, product.max_price) == (product.lowest, product.highest)
        assert product.search_document
        thumbnail = product.cover_thumbnail.removeprefix(settings.MEDIA_URL)
        assert (Path(settings.MEDIA_ROOT) / thumbnail).is_file()
    assert chinese_only and english
    skus = list(ProductVariant.objects.values_list("vendor_id", "sku"))
    assert len(skus) == len(set(skus))
    assert ProductVariant.objects.filter(attribute_values__isnull=False).exists()
    assert ProductVariant.objects.filter(compare_at_price__isnull=False).exists()
    assert Product.objects.filter(status=Product.Status.ACTIVE, sold_count__gt=0).exists()


def test_buyers_have_chinese_addresses():
    seed()
    buyer = User.objects.get(email="buyer@shequn.test")
    addresses = Address.objects.filter(user=buyer)
    assert addresses.count() == 2
    assert addresses.filter(is_default=True).count() == 1
    assert all(CJK.search(address.city) for address in addresses)
    assert User.objects.filter(email__startswith="buyer", addresses__isnull=False).distinct().count() == 5


def test_printed_log_ins_work(client):
    output = seed()
    assert DEMO_PASSWORD in output
    for email in (ADMIN_EMAIL, "buyer@shequn.test", "owner@tea-house.shequn.test", "staff@tea-house.shequn.test"):
        assert email in output
        assert client.login(email=email, password=DEMO_PASSWORD), email
        client.logout()
    assert User.objects.get(email=ADMIN_EMAIL).is_superuser

    # And through the real log-in page.
    response = client.post("/accounts/login/", {"login": "buyer@shequn.test", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(email="buyer@shequn.test").pk)
