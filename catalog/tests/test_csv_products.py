"""CSV import and export of a shop's catalog: one row per variant; an export re-imports
unchanged; a single bad row means nothing is imported, and the row is named."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Product, ProductVariant
from catalog.resources import products_csv_export
from catalog.services import ImportFailed, product_ban, product_create, product_set_status, products_import_csv
from catalog.tests.factories import CategoryFactory
from marketplace.models import AuditEvent

pytestmark = pytest.mark.django_db

HEADER = "product_slug,title_en,title_zh_hans,category,status,sku,variant_name,price,compare_at_price,stock,weight_grams,attributes\n"


def csv_file(text: str, *, encoding: str = "utf-8", name: str = "products.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


@pytest.fixture
def tea(db):
    return CategoryFactory(name="Tea", slug="tea")


@pytest.fixture
def teaware(db):
    return CategoryFactory(name="Teaware", slug="teaware")


@pytest.fixture
def catalog_a(shop_a, owner_a, tea, teaware):
    longjing = product_create(
        vendor=shop_a,
        actor=owner_a,
        data={
            "title_en": "West Lake Longjing",
            "title_zh_hans": "西湖龙井",
            "category": tea,
            "status": "active",
            "variants": [
                {
                    "sku": "LJ-50",
                    "name": "50 g",
                    "price": "88.00",
                    "stock": 5,
                    "weight_grams": 60,
                    "attributes": {"Weight": "50 g", "包装": "罐装"},
                },
                {"sku": "LJ-100", "name": "100 g", "price": "160.00", "compare_at_price": "180.00", "stock": 3},
            ],
        },
    )
    pot = product_create(
        vendor=shop_a,
        actor=owner_a,
        data={
            "title_zh_hans": '紫砂壶, "朱泥"',
            "category": teaware,
            "variants": [{"sku": "POT-1", "price": "1200.00"}],
        },
    )
    return longjing, pot


def _snapshot(vendor) -> list[tuple]:
    return [
        (
            variant.product.slug,
            variant.product.title_en,
            variant.product.title_zh_hans,
            variant.product.category_id,
            variant.product.status,
            variant.sku,
            variant.name,
            variant.price,
            variant.compare_at_price,
            variant.stock,
            variant.weight_grams,
            sorted(str(value) for value in variant.attribute_values.all()),
        )
        for variant in ProductVariant.objects.filter(vendor=vendor).select_related("product").order_by("sku")
    ]


def test_export_has_one_row_per_variant_with_the_product_columns(catalog_a, shop_a):
    longjing, pot = catalog_a
    text = products_csv_export(vendor=shop_a)
    assert text.startswith("\ufeff" + HEADER.strip())
    lines = text.lstrip("\ufeff").splitlines()
    assert len(lines) == 4
    assert (
        lines[1]
        == "west-lake-longjing,West Lake Longjing,西湖龙井,tea,active,LJ-50,50 g,88.00,,5,60,Weight: 50 g; 包装: 罐装"
    )
    assert lines[2] == "west-lake-longjing,West Lake Longjing,西湖龙井,tea,active,LJ-100,100 g,160.00,180.00,3,0,"
    assert lines[3] == f'{pot.slug},,"紫砂壶, ""朱泥""",teaware,draft,POT-1,,1200.00,,0,0,'


def test_an_export_reimports_unchanged(catalog_a, shop_a, owner_a):
    before = _snapshot(shop_a)
    exported = products_csv_export(vendor=shop_a)

    summary = products_import_csv(vendor=shop_a, actor=owner_a, file=csv_file(exported))

    assert (summary.products_created, summary.products_updated, summary.variants_created, summary.variants_updated) == (
        0,
        0,
        0,
        0,
    )
    assert summary.rows_unchanged == 3
    assert _snapshot(shop_a) == before
    assert products_csv_export(vendor=shop_a) == exported
    assert Product.objects.count() == 2


def test_import_updates_by_sku_and_creates_new_products_grouped_by_address_or_title(
    catalog_a, shop_a, owner_a, shop_b, owner_b, tea
):
    other_shop = product_create(
        vendor=shop_b,
        actor=owner_b,
        data={"title_en": "Elsewhere", "category": tea, "variants": [{"sku": "LJ-50", "price": "1.00", "stock": 1}]},
    )
    text = HEADER + (
        "west-lake-longjing,,,,,LJ-50,50 g,90.00,,12,60,Weight: 50 g; 包装: 罐装\n"
        "west-lake-longjing,,,,,LJ-250,250 g,380.00,400.00,2,260,Weight: 250 g\n"
        "jasmine-pearls,Jasmine Pearls,茉莉龙珠,tea,active,JP-1,100 g,45.50,,30,110,\n"
        "jasmine-pearls,,,,,JP-2,200 g,80.00,,10,,\n"
        ",Gaiwan,盖碗,teaware,hidden,GW-1,,66.00,,4,,\n"
        ",Gaiwan,盖碗,,,GW-2,Blue,68.00,,1,,\n"
    )

    summary = products_import_csv(vendor=shop_a, actor=owner_a, file=csv_file(text))

    assert (summary.products_created, summary.variants_created, summary.variants_updated) == (2, 5, 1)
    longjing = Product.objects.get(slug="west-lake-longjing")
    assert dict(longjing.variants.values_list("sku", "stock")) == {"LJ-50": 12, "LJ-100": 3, "LJ-250": 2}
    assert longjing.variants.get(sku="LJ-50").price == Decimal("90.00")
    assert (longjing.min_price, longjing.max_price, longjing.total_stock) == (Decimal("90.00"), Decimal("380.00"), 17)
    assert [str(value) for value in longjing.variants.get(sku="LJ-250").attribute_values.all()] == ["Weight: 250 g"]
    jasmine = Product.objects.get(slug="jasmine-pearls")
    assert (jasmine.vendor, jasmine.status, jasmine.title_zh_hans) == (shop_a, "active", "茉莉龙珠")
    assert list(jasmine.variants.values_list("sku", "price")) == [
        ("JP-1", Decimal("45.50")),
        ("JP-2", Decimal("80.00")),
    ]
    gaiwan = Product.objects.get(title_en="Gaiwan")
    assert (gaiwan.vendor, gaiwan.status, gaiwan.category.slug, gaiwan.slug) == (shop_a, "hidden", "teaware", "gaiwan")
    assert list(gaiwan.variants.values_list("sku", "name")) == [("GW-1", ""), ("GW-2", "Blue")]
    other_shop.refresh_from_db()
    assert other_shop.variants.get().stock == 1  # the same SKU code in another shop is not touched
    assert AuditEvent.objects.filter(action="product.csv_import", actor=owner_a).count() == 1


def test_one_bad_row_is_named_and_nothing_is_imported(catalog_a, shop_a, owner_a):
    before = _snapshot(shop_a)
    products_before = Product.objects.count()
    text = HEADER + (
        "west-lake-longjing,,,,,LJ-50,50 g,99.00,,50,60,\n"  # fine on its own
        ",Sencha,,tea,,SEN-1,,12.00,,5,,\n"  # fine on its own (a new product)
        ",Matcha,,tea,,MAT-1,,twelve,,5,,\n"  # bad price
        ",Hojicha,,no-such-category,,HOJ-1,,10.00,,5,,\n"  # unknown category
        ",Kukicha,,tea,,KUK-1,,10.00,9.00,-3,,\n"  # compare-at below price
    )

    with pytest.raises(ImportFailed) as failure:
        products_import_csv(vendor=shop_a, actor=owner_a, file=csv_file(text))

    messages = [str(error) for error in failure.value.errors]
    assert messages[0].startswith("Row 4: price: Enter an amount")
    assert messages[1] == "Row 5: category: no category has the address “no-such-category”."
    assert messages[2].startswith("Row 6: compare_at_price: The compare-at price must be at least the price")
    assert len(messages) == 3
    assert _snapshot(shop_a) == before
    assert Product.objects.count() == products_before
    assert not ProductVariant.objects.filter(sku__in=["SEN-1", "MAT-1"]).exists()
    assert not AuditEvent.objects.filter(action="product.csv_import").exists()


def test_rows_are_numbered_as_in_a_spreadsheet_even_after_blank_lines(catalog_a, shop_a, owner_a):
    text = HEADER + "\n" + "west-lake-longjing,,,,,LJ-50,50 g,1.00,,-1,,\n"
    with pytest.raises(ImportFailed) as failure:
        products_import_csv(vendor=shop_a, actor=owner_a, file=csv_file(text))
    assert [str(error) for error in failure.value.errors] == [
        "Row 3: stock: Stock must be a whole number from 0 to 10000000."
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty"),
        ("sku,price,colour\nA,1.00,red\n", "Unknown column “colour”"),
        ("title_en,price\nTea,1.00\n", "The column “sku” is required"),
        ("sku,price\n", "The file has no rows to import"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_as_a_whole(shop_a, owner_a, text, message):
    with pytest.raises(ImportFailed) as failure:
        products_import_csv(vendor=shop_a, actor=owner_a, file=csv_file(text))
    assert message in str(failure.value.errors[0])
    assert not Product.objects.exists()


def test_duplicate_skus_and_conflicting_product_values_in_one_file_are_reported(shop_a, owner_a, tea):
    text = HEADER + (
        "oolong,Oolong,,tea,,OO-1,,10.00,,1,,\n"
        "oolong,Oolong,,tea,,OO-1,,11.00,,1,,\n"
        "oolong,Oolong Tea,,tea,,OO-2,,12.00,,1,,\n"
    )
    with pytest.raises(ImportFailed) as failure:
        products_import_csv(vendor=shop_a, actor=owner_a, file=csv_file(text))
    assert [str(error) for error in failure.value.errors] == [
        "Row 3: sku: The SKU code OO-1 is also on row 2.",
        "Row 4: title_en: “Oolong Tea” differs from row 2 (“Oolong”) for the same product.",
    ]
    assert not Product.objects.exists()


def test_another_shops_product_address_or_a_banned_product_cannot_be_used(
    catalog_a, shop_a, owner_a, shop_b, owner_b, admin_user, tea
):
    longjing, _pot = catalog_a
    product_ban(product=longjing, actor=admin_user, reason="Fake")
    text = HEADER + "west-lake-longjing,,,tea,,B-1,,10.00,,1,,\n"
    with pytest.raises(ImportFailed) as failure:
        products_import_csv(vendor=shop_b, actor=owner_b, file=csv_file(text))
    assert str(failure.value.errors[0]) == "Row 2: product_slug: The address “west-lake-longjing” is already taken."

    product_set_status(product=longjing, actor=owner_a, status="hidden")
    with pytest.raises(ImportFailed) as failure:
        products_import_csv(
            vendor=shop_a,
            actor=owner_a,
            file=csv_file(HEADER + "west-lake-longjing,,,,active,LJ-50,50 g,88.00,,5,60,\n"),
        )
    assert str(failure.value.errors[0]).startswith("Row 2: This product was banned by the marketplace (Fake)")
    longjing.refresh_from_db()
    assert longjing.status == "hidden"


def test_a_gbk_file_from_a_chinese_spreadsheet_is_read(shop_a, owner_a, tea):
    text = "title_zh_hans,category,sku,price,stock\n碧螺春,tea,BLC-1,66.00,9\n"
    summary = products_import_csv(vendor=shop_a, actor=owner_a, file=csv_file(text, encoding="gbk"))
    assert summary.products_created == 1
    product = Product.objects.get()
    assert (product.title_zh_hans, product.vendor, product.status) == ("碧螺春", shop_a, "draft")
    assert product.variants.get().stock == 9
