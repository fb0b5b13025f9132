"""The shop's product pages: owners and managers manage their own shop's products; staff,
other shops and anonymous visitors get nothing."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Product, ProductImage, ProductVariant
from catalog.services import product_ban, product_create, product_image_add
from catalog.tests.factories import CategoryFactory
from catalog.tests.test_images import png_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def tea(db):
    return CategoryFactory(name="Tea", slug="tea")


def _product(vendor, actor, category, title="West Lake Longjing", sku="LJ-50", **extra):
    return product_create(
        vendor=vendor,
        actor=actor,
        data={
            "title_en": title,
            "title_zh_hans": "西湖龙井",
            "category": category,
            "variants": [{"sku": sku, "name": "50 g", "price": "88.00", "stock": 5}],
            **extra,
        },
    )


@pytest.fixture
def longjing(shop_a, owner_a, tea):
    return _product(shop_a, owner_a, tea)


@pytest.fixture
def panda_ball(shop_b, owner_b, tea):
    return _product(shop_b, owner_b, tea, title="Panda Ball", sku="PB-1")


def _edit_url(product) -> str:
    return f"/dashboard/products/{product.pk}/edit/"


def test_owner_sees_only_her_shops_products_with_a_fixed_number_of_queries(
    client, owner_a, shop_a, tea, longjing, panda_ball, django_assert_max_num_queries
):
    for number in range(12):
        _product(shop_a, owner_a, tea, title=f"Tea {number}", sku=f"T-{number}")
    client.force_login(owner_a)
    with django_assert_max_num_queries(12):
        response = client.get("/dashboard/products/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "West Lake Longjing" in page and "Tea 11" in page
    assert "Panda Ball" not in page


def test_the_list_searches_titles_and_sku_codes_and_filters_by_status(client, owner_a, shop_a, tea, longjing):
    other = _product(shop_a, owner_a, tea, title="Gaiwan", sku="GW-1", status="active")
    client.force_login(owner_a)
    assert "Gaiwan" not in client.get("/dashboard/products/?q=lj-50").content.decode()
    assert "West Lake Longjing" in client.get("/dashboard/products/?q=lj-50").content.decode()
    assert "West Lake Longjing" in client.get("/dashboard/products/?q=龙井").content.decode()
    active = client.get("/dashboard/products/?status=active").content.decode()
    assert other.title in active and "West Lake Longjing" not in active


def test_a_manager_creates_a_product_which_starts_as_a_draft(client, manager_a, shop_a, tea):
    client.force_login(manager_a)
    assert client.get("/dashboard/products/new/").status_code == 200
    response = client.post(
        "/dashboard/products/new/",
        {
            "title_en": "",
            "title_zh_hans": "铁观音",
            "category": tea.pk,
            "description_en": "<p>Roasted<script>x</script></p>",
        },
    )
    product = Product.objects.get()
    assert response.status_code == 302 and response["Location"] == _edit_url(product)
    assert (product.vendor, product.status, product.title_zh_hans) == (shop_a, "draft", "铁观音")
    assert product.description_en == "<p>Roasted</p>"


def test_a_product_without_a_title_is_not_created_and_the_form_says_why(client, owner_a, tea):
    client.force_login(owner_a)
    response = client.post("/dashboard/products/new/", {"title_en": "", "title_zh_hans": "", "category": tea.pk})
    assert response.status_code == 200
    assert "A product needs a title in English or in Chinese." in response.content.decode()
    assert not Product.objects.exists()


def test_the_edit_page_saves_both_languages(client, owner_a, longjing, tea):
    client.force_login(owner_a)
    page = client.get(_edit_url(longjing))
    assert page.status_code == 200 and "LJ-50" in page.content.decode()
    response = client.post(
        _edit_url(longjing),
        {
            "title_en": "Longjing Tea",
            "title_zh_hans": "龙井茶",
            "category": tea.pk,
            "description_zh_hans": "<p>春茶</p>",
        },
    )
    assert response.status_code == 302
    longjing.refresh_from_db()
    assert (longjing.title_en, longjing.title_zh_hans, longjing.description_zh_hans) == (
        "Longjing Tea",
        "龙井茶",
        "<p>春茶</p>",
    )


def test_adding_a_variant_with_a_used_sku_shows_the_error_and_saves_nothing(client, owner_a, longjing):
    client.force_login(owner_a)
    response = client.post(
        f"/dashboard/products/{longjing.pk}/variants/",
        {"new-sku": "LJ-50", "new-price": "10.00", "new-stock": "1", "new-weight_grams": "0", "new-is_active": "on"},
    )
    assert response.status_code == 200
    assert "The SKU code LJ-50 is already used in your shop." in response.content.decode()
    assert longjing.variants.count() == 1

    response = client.post(
        f"/dashboard/products/{longjing.pk}/variants/",
        {
            "new-sku": "LJ-100",
            "new-name": "100 g",
            "new-price": "160.00",
            "new-compare_at_price": "180.00",
            "new-stock": "4",
            "new-weight_grams": "110",
            "new-attributes": "Weight: 100 g; 包装：罐装",
            "new-is_active": "on",
        },
    )
    assert response.status_code == 302
    variant = longjing.variants.get(sku="LJ-100")
    assert (variant.price, variant.compare_at_price, variant.stock) == (Decimal("160.00"), Decimal("180.00"), 4)
    assert sorted(str(value) for value in variant.attribute_values.all()) == ["Weight: 100 g", "包装: 罐装"]
    longjing.refresh_from_db()
    assert (longjing.min_price, longjing.max_price, longjing.total_stock) == (Decimal("88.00"), Decimal("160.00"), 9)


def test_a_variant_row_saves_in_place_with_htmx(client, owner_a, longjing):
    variant = longjing.variants.get()
    client.force_login(owner_a)
    prefix = f"v{variant.pk}"
    form = {
        f"{prefix}-sku": "LJ-50",
        f"{prefix}-name": "50 g",
        f"{prefix}-price": "95.00",
        f"{prefix}-compare_at_price": "",
        f"{prefix}-stock": "7",
        f"{prefix}-weight_grams": "60",
        f"{prefix}-is_active": "on",
    }
    response = client.post(
        f"/dashboard/products/{longjing.pk}/variants/{variant.pk}/", form, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="variant-{variant.pk}"') and "Saved." in body
    variant.refresh_from_db()
    assert (variant.price, variant.stock) == (Decimal("95.00"), 7)

    form[f"{prefix}-compare_at_price"] = "90.00"
    response = client.post(
        f"/dashboard/products/{longjing.pk}/variants/{variant.pk}/", form, headers={"HX-Request": "true"}
    )
    assert "The compare-at price must be at least the price" in response.content.decode()
    variant.refresh_from_db()
    assert variant.compare_at_price is None


def test_image_upload_shows_a_clear_error_for_a_fake_image(client, owner_a, longjing):
    client.force_login(owner_a)
    response = client.post(
        f"/dashboard/products/{longjing.pk}/images/", {"image": SimpleUploadedFile("cat.jpg", b"just text")}
    )
    assert response.status_code == 200
    assert "The file is not an image we can read" in response.content.decode()
    assert not ProductImage.objects.exists()

    response = client.post(f"/dashboard/products/{longjing.pk}/images/", {"image": png_upload(), "alt": "Leaves"})
    assert response.status_code == 302
    longjing.refresh_from_db()
    assert longjing.images.get().alt == "Leaves" and longjing.cover_thumbnail.endswith(".webp")


def test_duplicate_and_status_buttons(client, owner_a, longjing):
    client.force_login(owner_a)
    response = client.post(f"/dashboard/products/{longjing.pk}/duplicate/")
    copy = Product.objects.exclude(pk=longjing.pk).get()
    assert response["Location"] == _edit_url(copy)
    assert (copy.status, list(copy.variants.values_list("sku", flat=True))) == ("draft", ["LJ-50-COPY"])

    client.post(f"/dashboard/products/{longjing.pk}/status/", {"status": "active"})
    longjing.refresh_from_db()
    assert longjing.status == "active"
    client.post(f"/dashboard/products/{longjing.pk}/status/", {"status": "hidden", "next": "list"})
    longjing.refresh_from_db()
    assert longjing.status == "hidden"


def test_a_banned_product_cannot_be_put_back_on_sale_from_the_dashboard(client, owner_a, admin_user, longjing):
    product_ban(product=longjing, actor=admin_user, reason="Counterfeit")
    client.force_login(owner_a)
    response = client.post(f"/dashboard/products/{longjing.pk}/status/", {"status": "active"}, follow=True)
    assert "banned by the marketplace (Counterfeit)" in response.content.decode()
    longjing.refresh_from_db()
    assert longjing.status == "draft"


def test_bulk_stock_saves_only_changed_rows_and_all_or_nothing(client, manager_a, shop_a, owner_a, tea, longjing):
    gaiwan = _product(shop_a, owner_a, tea, title="Gaiwan", sku="GW-1")
    small, cup = longjing.variants.get(), gaiwan.variants.get()
    client.force_login(manager_a)
    page = client.get("/dashboard/products/stock/")
    assert page.status_code == 200 and "GW-1" in page.content.decode()

    ProductVariant.objects.filter(pk=cup.pk).update(stock=2)  # sold while the page was open
    response = client.post(
        "/dashboard/products/stock/",
        {f"stock-{small.pk}": "30", f"original-{small.pk}": "5", f"stock-{cup.pk}": "5", f"original-{cup.pk}": "5"},
    )
    assert response.status_code == 302
    assert dict(ProductVariant.objects.values_list("sku", "stock")) == {"LJ-50": 30, "GW-1": 2}

    response = client.post(
        "/dashboard/products/stock/",
        {f"stock-{small.pk}": "31", f"original-{small.pk}": "30", f"stock-{cup.pk}": "-4", f"original-{cup.pk}": "2"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "GW-1: Stock must be a whole number" in body and "Nothing was saved" in body
    assert dict(ProductVariant.objects.values_list("sku", "stock")) == {"LJ-50": 30, "GW-1": 2}


def test_csv_export_download_and_import_page_with_row_errors(client, owner_a, longjing):
    client.force_login(owner_a)
    export = client.get("/dashboard/products/export/")
    assert export.status_code == 200
    assert export["Content-Disposition"] == 'attachment; filename="tea-house-products.csv"'
    assert "LJ-50" in export.content.decode("utf-8-sig")

    bad = export.content.decode("utf-8-sig").replace("88.00", "-88")
    response = client.post("/dashboard/products/import/", {"file": SimpleUploadedFile("p.csv", bad.encode())})
    assert response.status_code == 200
    assert "Row 2: price: Enter an amount" in response.content.decode()
    assert longjing.variants.get().price == Decimal("88.00")

    good = export.content.decode("utf-8-sig").replace("88.00", "77.00")
    response = client.post("/dashboard/products/import/", {"file": SimpleUploadedFile("p.csv", good.encode())})
    assert response.status_code == 302
    assert longjing.variants.get().price == Decimal("77.00")


DASHBOARD_GETS = [
    "/dashboard/products/",
    "/dashboard/products/new/",
    "/dashboard/products/stock/",
    "/dashboard/products/import/",
    "/dashboard/products/export/",
]


@pytest.mark.parametrize("url", DASHBOARD_GETS)
def test_staff_role_cannot_open_product_pages(client, staff_a, url):
    client.force_login(staff_a)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", DASHBOARD_GETS)
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


def test_a_buyer_without_a_shop_gets_404(client, buyer):
    client.force_login(buyer)
    assert client.get("/dashboard/products/").status_code == 404


def test_another_shops_owner_cannot_see_or_touch_the_product(client, owner_b, longjing, owner_a, tea):
    image = product_image_add(product=longjing, actor=owner_a, file=png_upload(20, 20))
    variant = longjing.variants.get()
    client.force_login(owner_b)
    pk = longjing.pk
    attempts = [
        ("get", f"/dashboard/products/{pk}/edit/", {}),
        ("post", f"/dashboard/products/{pk}/edit/", {"title_en": "Hacked", "category": tea.pk}),
        ("post", f"/dashboard/products/{pk}/duplicate/", {}),
        ("post", f"/dashboard/products/{pk}/status/", {"status": "active"}),
        (
            "post",
            f"/dashboard/products/{pk}/variants/",
            {"new-sku": "X", "new-price": "1", "new-stock": "1", "new-weight_grams": "0"},
        ),
        (
            "post",
            f"/dashboard/products/{pk}/variants/{variant.pk}/",
            {f"v{variant.pk}-sku": "X", f"v{variant.pk}-price": "1"},
        ),
        ("post", f"/dashboard/products/{pk}/variants/{variant.pk}/delete/", {}),
        ("post", f"/dashboard/products/{pk}/images/", {"image": png_upload()}),
        ("post", f"/dashboard/products/{pk}/images/{image.pk}/delete/", {}),
    ]
    for method, url, data in attempts:
        assert getattr(client, method)(url, data).status_code == 404, url
    # Her own stock form cannot reach shop A's variant either.
    client.post("/dashboard/products/stock/", {f"stock-{variant.pk}": "0", f"original-{variant.pk}": "5"})

    longjing.refresh_from_db()
    assert (longjing.title_en, longjing.status) == ("West Lake Longjing", "draft")
    assert list(ProductVariant.objects.values_list("sku", "stock")) == [("LJ-50", 5)]
    assert Product.objects.count() == 1 and ProductImage.objects.count() == 1
    assert "LJ-50" not in client.get("/dashboard/products/export/").content.decode("utf-8-sig")


def test_the_stock_form_of_another_shop_cannot_change_a_variant(client, owner_b, longjing):
    variant = longjing.variants.get()
    client.force_login(owner_b)
    response = client.post("/dashboard/products/stock/", {f"stock-{variant.pk}": "0", f"original-{variant.pk}": "5"})
    assert response.status_code == 200
    assert "not found in your shop" in response.content.decode()
    variant.refresh_from_db()
    assert variant.stock == 5
