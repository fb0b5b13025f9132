"""The fixed cast every test story uses: a buyer, two shops with staff of each role, an admin."""

import pytest

from marketplace.tests.factories import PASSWORD, UserFactory
from vendors.models import Role
from vendors.tests.factories import ShippingTemplateFactory, VendorFactory, VendorMemberFactory


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.AXES_ENABLED = False
    settings.PAGE_CACHE_ENABLED = False
    # Real password hashing costs ~0.5 s per user on this machine; tests only need it to work.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english_between_tests(settings):
    """A request in Chinese leaves Chinese active in this thread; every test starts in English."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


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


# --- Browser journeys: Debian's chromium driven by Playwright (never a downloaded browser) ---
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def chromium():
    import os

    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # between browser steps are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server, settings):
    settings.SITE_URL = live_server.url
    context = chromium.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()
