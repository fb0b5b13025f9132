"""The dashboard lists cost the same number of queries for 2 or 20 rows."""

from decimal import Decimal

import pytest

from vendors.models import Role
from vendors.services import shipping_template_create
from vendors.tests.factories import VendorFactory, VendorMemberFactory

pytestmark = pytest.mark.django_db
BUDGET = 6  # user, membership with its shop, the list: nothing per row


def test_staff_page(client, shop_a, owner_a, django_assert_max_num_queries):
    for _ in range(20):
        VendorMemberFactory(vendor=shop_a, role=Role.STAFF)
    client.force_login(owner_a)
    with django_assert_max_num_queries(BUDGET):
        response = client.get("/dashboard/staff/")
    assert response.content.decode().count("/remove/") == 21


def test_shipping_page(client, shop_a, owner_a, django_assert_max_num_queries):
    for n in range(20):
        shipping_template_create(vendor=shop_a, actor=owner_a, name=f"Zone {n}", base_fee=Decimal(n))
    client.force_login(owner_a)
    with django_assert_max_num_queries(BUDGET):
        response = client.get("/dashboard/shipping/")
    assert response.content.decode().count("/deactivate/") == 21


def test_switch_page_and_api(client, owner_a, django_assert_max_num_queries):
    for _ in range(20):
        VendorMemberFactory(vendor=VendorFactory(), user=owner_a, role=Role.STAFF)
    client.force_login(owner_a)
    with django_assert_max_num_queries(BUDGET):
        assert client.get("/dashboard/switch/").status_code == 200
    with django_assert_max_num_queries(BUDGET):
        assert client.get("/api/v1/vendor/shops/?page_size=50").json()["count"] == 21
