"""Stories about the shop's product services: creating, editing, duplicating, statuses and bans,
variants and SKU codes, bulk stock and the derived fields listings read."""

from decimal import Decimal

import pytest

from catalog.models import AttributeValue, Product, ProductVariant
from catalog.search import search_document_for
from catalog.services import (
    DuplicateSku,
    ProductBanned,
    ProductInvalid,
    product_ban,
    product_create,
    product_duplicate,
    product_image_add,
    product_refresh_derived,
    product_set_status,
    product_unban,
    product_update,
    stock_bulk_update,
    variant_create,
    variant_delete,
    variant_update,
)
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from catalog.tests.test_images import png_upload
from marketplace.errors import NotFound
from marketplace.models import AuditEvent, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def tea(db):
    return CategoryFactory(name="Tea", slug="tea")


@pytest.fixture
def longjing(shop_a, owner_a, tea):
    return product_create(
        vendor=shop_a,
        actor=owner_a,
        data={
            "title_en": "West Lake Longjing",
            "title_zh_hans": "西湖龙井",
            "description_en": "<p>Spring picked.</p>",
            "category": tea,
            "variants": [
                {"sku": "LJ-50", "name": "50 g", "price": "88.00", "stock": 5, "attributes": {"Weight": "50 g"}},
                {"sku": "LJ-100", "name": "100 g", "price": "160.00", "compare_at_price": "180.00", "stock": 3},
            ],
        },
    )


def test_a_new_product_is_a_draft_with_its_variants_and_derived_prices(longjing, shop_a):
    assert longjing.status == Product.Status.DRAFT
    assert longjing.slug == "west-lake-longjing"
    assert longjing.currency == shop_a.currency
    assert list(longjing.variants.values_list("sku", "stock")) == [("LJ-50", 5), ("LJ-100", 3)]
    assert (longjing.min_price, longjing.max_price, longjing.total_stock) == (Decimal("88.00"), Decimal("160.00"), 8)
    # Both languages of the title, the description as text, the shop's names and the SKU codes.
    assert longjing.search_document == search_document_for(
        titles=["West Lake Longjing", "西湖龙井"],
        descriptions=["Spring picked."],
        vendor_names=[shop_a.name],
        skus=["LJ-50", "LJ-100"],
    )
    assert AuditEvent.objects.filter(action="product.create", object_id=str(longjing.pk)).exists()


def test_a_chinese_title_gets_a_short_ascii_address_and_titles_keep_their_language(shop_a, owner_a, tea):
    product = product_create(vendor=shop_a, actor=owner_a, data={"title_zh_hans": "铁观音", "category": tea})
    product.refresh_from_db()
    assert product.slug.startswith("p-") and product.slug.isascii()
    assert (product.title_en or "", product.title_zh_hans) == ("", "铁观音")
    assert product.title == "铁观音"  # English readers fall back to the Chinese title


def test_the_same_title_twice_gets_two_addresses(shop_a, shop_b, owner_a, owner_b, tea):
    first = product_create(vendor=shop_a, actor=owner_a, data={"title_en": "Green Tea", "category": tea})
    second = product_create(vendor=shop_b, actor=owner_b, data={"title_en": "Green Tea", "category": tea})
    assert (first.slug, second.slug) == ("green-tea", "green-tea-2")


def test_a_product_needs_a_title_and_nothing_is_saved_without_one(shop_a, owner_a, tea):
    with pytest.raises(ProductInvalid, match="needs a title") as error:
        product_create(vendor=shop_a, actor=owner_a, data={"title_en": "  ", "category": tea})
    assert error.value.field == "title_en"
    assert not Product.objects.exists()


def test_descriptions_are_sanitised_to_the_allow_list(longjing, owner_a):
    product_update(
        product=longjing,
        actor=owner_a,
        data={
            "description_en": '<h2>Taste</h2><p onclick="steal()">Sweet <script>alert(1)</script><a href="javascript:x()">'
            'link</a><img src="https://example.com/a.png" alt="leaf" onerror="x"><span style="color:red">red</span></p>'
        },
    )
    longjing.refresh_from_db()
    html = longjing.description_en
    assert "<h2>Taste</h2>" in html and '<img src="https://example.com/a.png" alt="leaf">' in html
    for bad in ("onclick", "<script", "javascript:", "onerror", "<span", "style="):
        assert bad not in html


def test_sku_codes_are_unique_per_shop_but_another_shop_may_reuse_one(longjing, shop_b, owner_a, owner_b, tea):
    with pytest.raises(DuplicateSku, match="LJ-50 is already used in your shop"):
        variant_create(product=longjing, actor=owner_a, data={"sku": "LJ-50", "price": "1.00"})
    assert ProductVariant.objects.filter(sku="LJ-50").count() == 1

    other = product_create(
        vendor=shop_b,
        actor=owner_b,
        data={"title_en": "Other tea", "category": tea, "variants": [{"sku": "LJ-50", "price": "9.90"}]},
    )
    assert ProductVariant.objects.filter(sku="LJ-50").count() == 2
    assert other.variants.get().vendor == shop_b


def test_renaming_a_sku_onto_another_variants_code_is_refused(longjing, owner_a):
    variant = longjing.variants.get(sku="LJ-100")
    with pytest.raises(DuplicateSku):
        variant_update(variant=variant, actor=owner_a, data={"sku": "LJ-50"})
    variant.refresh_from_db()
    assert variant.sku == "LJ-100"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"price": "-1"}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": "1.001"}, "price"),
        ({"price": "10.00", "compare_at_price": "9.99"}, "compare_at_price"),
        ({"price": "10.00", "stock": -1}, "stock"),
        ({"price": "10.00", "stock": "many"}, "stock"),
        ({"price": "10.00", "weight_grams": -5}, "weight_grams"),
        ({"price": "10.00", "attributes": {"Colour": ""}}, "attributes"),
    ],
)
def test_bad_variant_values_are_refused_with_the_field_named(longjing, owner_a, data, field):
    with pytest.raises(ProductInvalid) as error:
        variant_create(product=longjing, actor=owner_a, data={"sku": "NEW-1", **data})
    assert error.value.field == field
    assert not ProductVariant.objects.filter(sku="NEW-1").exists()


def test_an_edit_writes_only_what_changed_so_stock_sold_meanwhile_is_kept(longjing, owner_a):
    variant = longjing.variants.get(sku="LJ-50")  # the page was opened with stock 5
    ProductVariant.objects.filter(pk=variant.pk).update(stock=2)  # meanwhile checkout reserved 3
    variant_update(variant=variant, actor=owner_a, data={"name": "50 grams", "price": "90.00"})
    variant.refresh_from_db()
    assert (variant.name, variant.price, variant.stock) == ("50 grams", Decimal("90.00"), 2)
    change = AuditEvent.objects.get(action="variant.price_change", object_id=str(variant.pk))
    assert change.data == {"sku": "LJ-50", "from": "88.00", "to": "90.00"}


def test_attribute_values_are_found_by_name_in_any_case_or_created(longjing, owner_a):
    variant_create(
        product=longjing, actor=owner_a, data={"sku": "LJ-250", "price": "300.00", "attributes": {"weight": "250 g"}}
    )
    variant_create(
        product=longjing, actor=owner_a, data={"sku": "LJ-GIFT", "price": "320.00", "attributes": {"包装": "礼盒"}}
    )
    weights = AttributeValue.objects.filter(attribute__slug="weight")
    assert sorted(weights.values_list("value", flat=True)) == ["250 g", "50 g"]  # one "Weight" attribute
    gift = ProductVariant.objects.get(sku="LJ-GIFT").attribute_values.get()
    assert (gift.attribute.name, gift.value) == ("包装", "礼盒")
    assert gift.attribute.slug.startswith("a-") and gift.slug.startswith("v-")


def test_derived_prices_and_stock_count_only_active_variants(longjing, owner_a):
    variant_update(variant=longjing.variants.get(sku="LJ-50"), actor=owner_a, data={"is_active": False})
    longjing.refresh_from_db()
    assert (longjing.min_price, longjing.max_price, longjing.total_stock) == (Decimal("160.00"), Decimal("160.00"), 3)
    assert longjing.search_document == search_document_for(
        titles=["West Lake Longjing", "西湖龙井"],
        descriptions=["Spring picked."],
        vendor_names=[longjing.vendor.name],
        skus=["LJ-100"],
    )


def test_refresh_derived_fixes_rows_built_directly_in_one_set(shop_a):
    products = ProductFactory.create_batch(3, vendor=shop_a, min_price="0", max_price="0", total_stock=0)
    for index, product in enumerate(products):
        VariantFactory(product=product, price=f"{10 + index}.00", stock=index)
        VariantFactory(product=product, price="99.00", stock=1)
    product_refresh_derived(product_ids=[product.pk for product in products])
    assert list(Product.objects.order_by("pk").values_list("min_price", "max_price", "total_stock")) == [
        (Decimal("10.00"), Decimal("99.00"), 1),
        (Decimal("11.00"), Decimal("99.00"), 2),
        (Decimal("12.00"), Decimal("99.00"), 3),
    ]


def test_duplicate_is_a_draft_copy_with_new_sku_codes_options_and_images(longjing, owner_a, shop_a):
    product_image_add(product=longjing, actor=owner_a, file=png_upload())
    product_set_status(product=longjing, actor=owner_a, status=Product.Status.ACTIVE)

    copy = product_duplicate(product=longjing, actor=owner_a)
    again = product_duplicate(product=longjing, actor=owner_a)

    assert copy.status == Product.Status.DRAFT and copy.pk != longjing.pk and copy.slug != longjing.slug
    assert (copy.title_en, copy.title_zh_hans, copy.category_id) == (
        longjing.title_en,
        "西湖龙井",
        longjing.category_id,
    )
    assert list(copy.variants.values_list("sku", "price", "stock")) == [
        ("LJ-50-COPY", Decimal("88.00"), 5),
        ("LJ-100-COPY", Decimal("160.00"), 3),
    ]
    assert list(again.variants.values_list("sku", flat=True)) == ["LJ-50-COPY2", "LJ-100-COPY2"]
    assert [str(value) for value in copy.variants.get(sku="LJ-50-COPY").attribute_values.all()] == ["Weight: 50 g"]
    copied_image, original_image = copy.images.get(), longjing.images.get()
    assert copied_image.image.name != original_image.image.name
    assert copied_image.image.storage.exists(copied_image.image.name)
    assert copy.cover_thumbnail and copy.cover_thumbnail != longjing.cover_thumbnail
    assert ProductVariant.objects.filter(vendor=shop_a).count() == 6


def test_status_changes_are_audited_and_need_an_active_variant(longjing, owner_a, shop_a, tea):
    product_set_status(product=longjing, actor=owner_a, status="hidden")
    product_set_status(product=longjing, actor=owner_a, status="active")
    longjing.refresh_from_db()
    assert longjing.status == "active"
    assert list(
        AuditEvent.objects.filter(action="product.status", object_id=str(longjing.pk))
        .order_by("id")
        .values_list("data", flat=True)
    ) == [{"from": "draft", "to": "hidden"}, {"from": "hidden", "to": "active"}]

    empty = product_create(vendor=shop_a, actor=owner_a, data={"title_en": "Empty", "category": tea})
    with pytest.raises(ProductInvalid, match="at least one active variant"):
        product_set_status(product=empty, actor=owner_a, status="active")
    empty.refresh_from_db()
    assert empty.status == "draft"


def test_the_last_active_variant_of_a_product_on_sale_cannot_be_deleted(longjing, owner_a):
    product_set_status(product=longjing, actor=owner_a, status="active")
    variant_delete(variant=longjing.variants.get(sku="LJ-50"), actor=owner_a)
    with pytest.raises(ProductInvalid):
        variant_delete(variant=longjing.variants.get(sku="LJ-100"), actor=owner_a)
    assert list(longjing.variants.values_list("sku", flat=True)) == ["LJ-100"]
    longjing.refresh_from_db()
    assert (longjing.min_price, longjing.total_stock) == (Decimal("160.00"), 3)


def test_a_banned_product_cannot_be_put_on_sale_by_its_shop(longjing, owner_a, manager_a, admin_user):
    product_set_status(product=longjing, actor=owner_a, status="active")
    product_ban(product=longjing, actor=admin_user, reason="Counterfeit")
    product_set_status(product=longjing, actor=owner_a, status="hidden")

    with pytest.raises(ProductBanned, match="Counterfeit") as error:
        product_set_status(product=longjing, actor=owner_a, status="active")
    assert error.value.http_status == 409
    longjing.refresh_from_db()
    assert (longjing.status, longjing.is_banned, longjing.ban_reason) == ("hidden", True, "Counterfeit")
    assert AuditEvent.objects.filter(action="product.ban", actor=admin_user, data={"reason": "Counterfeit"}).exists()
    # Only the owners hear about it.
    notice = Notification.objects.get(kind="product_banned")
    assert notice.user == owner_a and notice.body == "Counterfeit"
    assert notice.url == f"/dashboard/products/{longjing.pk}/edit/"


def test_unbanning_lets_the_shop_sell_again_and_tells_the_owner(longjing, owner_a, admin_user):
    product_ban(product=longjing, actor=admin_user, reason="Check licence")
    product_unban(product=longjing, actor=admin_user)
    product_set_status(product=longjing, actor=owner_a, status="active")
    longjing.refresh_from_db()
    assert (longjing.is_banned, longjing.ban_reason, longjing.status) == (False, "", "active")
    assert Notification.objects.filter(user=owner_a, kind="product_unbanned").count() == 1
    assert AuditEvent.objects.filter(action="product.unban", object_id=str(longjing.pk)).count() == 1


def test_a_ban_needs_a_reason(longjing, admin_user):
    with pytest.raises(ProductInvalid, match="reason"):
        product_ban(product=longjing, actor=admin_user, reason=" ")
    longjing.refresh_from_db()
    assert not longjing.is_banned


def test_bulk_stock_update_sets_every_given_variant(longjing, owner_a, shop_a):
    small, large = longjing.variants.get(sku="LJ-50"), longjing.variants.get(sku="LJ-100")
    changed = stock_bulk_update(vendor=shop_a, actor=owner_a, changes={small.pk: 40, large.pk: "0"})
    assert {variant.sku for variant in changed} == {"LJ-50", "LJ-100"}
    assert dict(longjing.variants.values_list("sku", "stock")) == {"LJ-50": 40, "LJ-100": 0}
    longjing.refresh_from_db()
    assert longjing.total_stock == 40
    assert AuditEvent.objects.get(action="stock.bulk_update").data == {"changes": {"LJ-50": [5, 40], "LJ-100": [3, 0]}}


def test_bulk_stock_update_is_all_or_nothing(longjing, owner_a, shop_a, shop_b):
    small, large = longjing.variants.get(sku="LJ-50"), longjing.variants.get(sku="LJ-100")
    foreign = VariantFactory(product=ProductFactory(vendor=shop_b), stock=7)

    with pytest.raises(ProductInvalid, match="LJ-100"):
        stock_bulk_update(vendor=shop_a, actor=owner_a, changes={small.pk: 40, large.pk: -2})
    with pytest.raises(NotFound):
        stock_bulk_update(vendor=shop_a, actor=owner_a, changes={small.pk: 40, foreign.pk: 0})

    assert dict(longjing.variants.values_list("sku", "stock")) == {"LJ-50": 5, "LJ-100": 3}
    foreign.refresh_from_db()
    assert foreign.stock == 7
    assert not AuditEvent.objects.filter(action="stock.bulk_update").exists()
