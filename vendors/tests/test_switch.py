"""Tea House's owner also works at Panda Sports (as staff) and switches between them."""

import pytest

from vendors.dashboard import SESSION_KEY
from vendors.models import Role
from vendors.tests.factories import VendorFactory, VendorMemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_a_also_staff_at_b(owner_a, shop_b, owner_b):
    VendorMemberFactory(vendor=shop_b, user=owner_a, role=Role.STAFF)
    return owner_a


def test_switch_page_lists_only_my_shops(client, owner_a_also_staff_at_b, shop_a, shop_b):
    elsewhere = VendorFactory(name="Silk Road Traders")
    client.force_login(owner_a_also_staff_at_b)
    page = client.get("/dashboard/switch/").content.decode()
    assert "Tea House" in page and "Panda Sports" in page
    assert elsewhere.name not in page


def test_switching_changes_the_shop_and_the_role(client, owner_a_also_staff_at_b, shop_a, shop_b):
    client.force_login(owner_a_also_staff_at_b)
    # Without a choice the dashboard opens the first shop by name: Panda Sports, where they are staff.
    assert client.get("/dashboard/shop/").status_code == 404

    response = client.post("/dashboard/switch/", {"vendor": shop_a.pk})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert client.session[SESSION_KEY] == shop_a.pk
    assert "Tea House" in client.get("/dashboard/shop/").content.decode()

    client.post("/dashboard/switch/", {"vendor": shop_b.pk})
    assert client.session[SESSION_KEY] == shop_b.pk
    assert client.get("/dashboard/shop/").status_code == 404  # staff at Panda Sports


def test_cannot_switch_into_a_shop_i_do_not_staff(client, owner_a, shop_a, shop_b):
    client.force_login(owner_a)
    client.post("/dashboard/switch/", {"vendor": shop_a.pk})
    for forged in (shop_b.pk, 999999, "abc"):
        assert client.post("/dashboard/switch/", {"vendor": forged}).status_code == 404
    assert client.session[SESSION_KEY] == shop_a.pk


def test_anonymous_switch_goes_to_log_in(client, shop_a):
    response = client.post("/dashboard/switch/", {"vendor": shop_a.pk})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_person_without_a_shop_is_invited_to_apply(client, buyer):
    client.force_login(buyer)
    page = client.get("/dashboard/switch/").content.decode()
    assert "/sell/apply/" in page
