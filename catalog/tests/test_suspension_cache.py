"""A shop suspended by an admin disappears at once, even from pages anonymous visitors had
in the page cache (vendors tells the catalog through the kernel hook)."""

import pytest
from django.core.cache import cache

from catalog.cache import HEADER, products_changed
from catalog.tests.factories import make_category, make_product
from vendors.services import vendor_reinstate, vendor_suspend

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def page_cache_on(settings):
    settings.PAGE_CACHE_ENABLED = True
    cache.clear()
    yield
    cache.clear()


def test_suspending_a_shop_invalidates_its_cached_pages(client, shop_a, admin_user, django_capture_on_commit_callbacks):
    product = make_product(vendor=shop_a, category=make_category("Tea"), title="Golden Oolong")
    with django_capture_on_commit_callbacks(execute=True):  # as the service that made it does
        products_changed(product_ids=[product.pk])
    assert client.get(f"/p/{product.slug}/")[HEADER] == "miss"
    assert client.get(f"/p/{product.slug}/")[HEADER] == "hit"
    assert "Golden Oolong" in client.get("/products/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        vendor_suspend(vendor=shop_a, actor=admin_user, reason="Counterfeit goods")

    assert client.get(f"/p/{product.slug}/").status_code == 404
    assert "Golden Oolong" not in client.get("/products/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        vendor_reinstate(vendor=shop_a, actor=admin_user)
    assert client.get(f"/p/{product.slug}/").status_code == 200
