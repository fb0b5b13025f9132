"""The fixed cast every test story uses: a buyer, two shops with staff of each role, an admin."""

import pytest

from marketplace.tests.factories import PASSWORD, UserFactory
from vendors.models import Role
from vendors.tests.factories import ShippingTemplateFactory, VendorFactory, VendorMemberFactory


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.AXES_ENABLED = False
    settings.PAGE_CACHE_ENABLED = False


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def buyer(db):
    return UserFactory(email="buyer@example.com", display_name="Li Lei")


@pytest.fixture
def other_buyer(db):
    return UserFactory(email="other.buyer@example.com", display_name="Han Meimei")


@pytest.fixture
def admin_user(db):
    return UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def shop_a(db):
    vendor = VendorFactory(name="Tea House", slug="tea-house")
    ShippingTemplateFactory(vendor=vendor)
    return vendor


@pytest.fixture
def shop_b(db):
    vendor = VendorFactory(name="Panda Sports", slug="panda-sports")
    ShippingTemplateFactory(vendor=vendor, base_fee="12.00", free_over=None)
    return vendor


@pytest.fixture
def owner_a(shop_a):
    return VendorMemberFactory(vendor=shop_a, role=Role.OWNER, user__email="owner.a@example.com").user


@pytest.fixture
def manager_a(shop_a):
    return VendorMemberFactory(vendor=shop_a, role=Role.MANAGER, user__email="manager.a@example.com").user


@pytest.fixture
def staff_a(shop_a):
    return VendorMemberFactory(vendor=shop_a, role=Role.STAFF, user__email="staff.a@example.com").user


@pytest.fixture
def owner_b(shop_b):
    return VendorMemberFactory(vendor=shop_b, role=Role.OWNER, user__email="owner.b@example.com").user
