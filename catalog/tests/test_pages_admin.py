"""Django admin for the catalog: moderation through the catalog services, the category tree."""

import pytest

from catalog.models import Category, Product
from catalog.tests.factories import make_category, make_product
from marketplace.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_product_changelist_filters_and_searches(admin_client, shop_a):
    make_product(vendor=shop_a, title="Clay teapot", variants=[{"sku": "TP-77"}])
    make_product(vendor=shop_a, title="Mug")
    response = admin_client.get("/admin/catalog/product/", {"q": "TP-77"})
    assert response.status_code == 200
    assert "Clay teapot" in response.content.decode() and "Mug" not in response.content.decode()
    assert admin_client.get("/admin/catalog/product/", {"is_banned__exact": "1"}).status_code == 200


def test_ban_action_asks_for_a_reason_then_bans(admin_client, shop_a, owner_a):
    product = make_product(vendor=shop_a, title="Fake watch")
    data = {"action": "ban_products", "_selected_action": [product.pk]}
    form = admin_client.post("/admin/catalog/product/", data)
    assert form.status_code == 200
    assert 'name="reason"' in form.content.decode()
    product.refresh_from_db()
    assert product.is_banned is False

    done = admin_client.post("/admin/catalog/product/", {**data, "apply": "1", "reason": "Counterfeit brand"})
    assert done.status_code == 302
    product.refresh_from_db()
    assert product.is_banned is True and product.ban_reason == "Counterfeit brand"
    assert AuditEvent.objects.filter(action="product.ban").exists()
    assert admin_client.get(f"/p/{product.slug}/").status_code == 404


def test_ban_without_a_reason_is_refused(admin_client, shop_a):
    product = make_product(vendor=shop_a, title="Fake watch")
    response = admin_client.post(
        "/admin/catalog/product/",
        {"action": "ban_products", "_selected_action": [product.pk], "apply": "1", "reason": ""},
    )
    assert response.status_code == 200
    product.refresh_from_db()
    assert product.is_banned is False


def test_unban_action(admin_client, shop_a, owner_a):
    product = make_product(vendor=shop_a, title="Watch", is_banned=True, ban_reason="check")
    response = admin_client.post(
        "/admin/catalog/product/", {"action": "unban_products", "_selected_action": [product.pk]}
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.is_banned is False
    assert admin_client.get(f"/p/{product.slug}/").status_code == 200


def test_category_admin_keeps_the_tree(admin_client):
    food = make_category("Food")
    response = admin_client.post(
        "/admin/catalog/category/add/",
        {"name_en": "Tea", "name_zh_hans": "茶", "slug": "tea", "parent": food.pk, "position": 0},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    tea = Category.objects.get(slug="tea")
    assert tea.path.startswith(food.path) and tea.depth == 1
    assert admin_client.get("/admin/catalog/category/").status_code == 200


def test_category_cannot_be_moved_inside_itself(admin_client):
    food = make_category("Food")
    tea = make_category("Tea", parent=food)
    response = admin_client.post(
        f"/admin/catalog/category/{food.pk}/change/",
        {"name_en": "Food", "name_zh_hans": "", "slug": "food", "parent": tea.pk, "position": 0},
    )
    assert response.status_code == 200
    assert "cannot be placed inside itself" in response.content.decode()
    food.refresh_from_db()
    assert food.parent_id is None


@pytest.mark.parametrize(
    "path", ["/admin/catalog/attribute/", "/admin/catalog/attributevalue/", "/admin/catalog/productvariant/"]
)
def test_other_catalog_admin_pages_open(admin_client, shop_a, path):
    make_product(vendor=shop_a, title="Anything")
    assert admin_client.get(path).status_code == 200


def test_admin_edit_of_a_product_refreshes_search(admin_client, shop_a):
    from catalog.selectors import product_search

    product = make_product(vendor=shop_a, title="Old name", variants=[{"sku": "ON-1"}])
    page = admin_client.get(f"/admin/catalog/product/{product.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {key: value for key, value in form.initial.items() if value is not None}
    data.update(
        {
            "title_en": "Shiny kettle",
            "title_zh_hans": "",
            "description_en": "",
            "description_zh_hans": "",
            "category": product.category_id,
            "status": Product.Status.ACTIVE,
            "currency": "CNY",
            "slug": product.slug,
            "variants-TOTAL_FORMS": "1",
            "variants-INITIAL_FORMS": "1",
            "variants-0-id": product.variants.get().pk,
            "variants-0-product": product.pk,
            "variants-0-is_active": "on",
            "variants-0-position": "0",
            "images-TOTAL_FORMS": "0",
            "images-INITIAL_FORMS": "0",
        }
    )
    response = admin_client.post(f"/admin/catalog/product/{product.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert [p.pk for p in product_search(query="kettle")] == [product.pk]
