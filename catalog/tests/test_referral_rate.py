"""A shop sets each product's referral commission rate, from 0 to the platform's maximum
(settings.REFERRAL_RATE_MAX), in the dashboard form and the vendor API."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from catalog.models import Product
from catalog.referrals import referral_code_for, referral_code_resolve
from catalog.services import product_create
from catalog.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tea(db):
    return CategoryFactory(name="Tea", slug="tea")


@pytest.fixture
def longjing(shop_a, owner_a, tea):
    return product_create(
        vendor=shop_a,
        actor=owner_a,
        data={"title_en": "Longjing", "category": tea, "variants": [{"sku": "LJ-1", "price": "88.00", "stock": 5}]},
    )


def _edit(client, product, tea, rate: str):
    return client.post(
        f"/dashboard/products/{product.pk}/edit/", {"title_en": "Longjing", "category": tea.pk, "referral_rate": rate}
    )


def test_the_product_form_saves_a_referral_rate(client, owner_a, longjing, tea):
    client.force_login(owner_a)
    assert 'name="referral_rate"' in client.get(f"/dashboard/products/{longjing.pk}/edit/").content.decode()

    response = _edit(client, longjing, tea, "0.0500")

    assert response.status_code == 302
    assert Product.objects.get(pk=longjing.pk).referral_rate == Decimal("0.0500")


@pytest.mark.parametrize("rate", ["0.2001", "-0.01", "0.05001", "five", "NaN"])
def test_the_product_form_refuses_a_rate_outside_zero_to_the_maximum(client, owner_a, longjing, tea, rate):
    client.force_login(owner_a)

    response = _edit(client, longjing, tea, rate)

    assert response.status_code == 200
    assert "The referral rate is a number from 0 to 0.2000" in " ".join(
        response.context["form"].errors["referral_rate"]
    )
    assert Product.objects.get(pk=longjing.pk).referral_rate == Decimal("0")


def test_the_maximum_comes_from_the_settings(client, owner_a, longjing, tea, settings):
    settings.REFERRAL_RATE_MAX = Decimal("0.1000")
    client.force_login(owner_a)
    assert _edit(client, longjing, tea, "0.1500").status_code == 200
    assert _edit(client, longjing, tea, "0.1000").status_code == 302
    assert Product.objects.get(pk=longjing.pk).referral_rate == Decimal("0.1000")


def test_the_vendor_api_sets_and_shows_the_rate(owner_a, longjing):
    api = APIClient()
    api.force_authenticate(owner_a)

    response = api.patch(f"/api/v1/vendor/products/{longjing.pk}/", {"referral_rate": "0.0800"}, format="json")

    assert response.status_code == 200 and response.json()["referral_rate"] == "0.0800"
    assert Product.objects.get(pk=longjing.pk).referral_rate == Decimal("0.0800")


def test_the_vendor_api_refuses_a_rate_over_the_maximum(owner_a, longjing):
    api = APIClient()
    api.force_authenticate(owner_a)

    response = api.patch(f"/api/v1/vendor/products/{longjing.pk}/", {"referral_rate": "0.5000"}, format="json")

    assert response.status_code == 400
    assert "The referral rate is a number from 0 to 0.2000" in response.json()["message"]
    assert Product.objects.get(pk=longjing.pk).referral_rate == Decimal("0")


def test_a_referral_code_names_its_user_and_cannot_be_forged(buyer, other_buyer):
    code = referral_code_for(buyer)
    assert referral_code_resolve(code) == buyer.pk
    value, _, signature = code.partition("-")
    other_value = referral_code_for(other_buyer).partition("-")[0]
    assert referral_code_resolve(f"{other_value}-{signature}") is None  # someone else's id, my signature
    assert referral_code_resolve(f"{value}-{signature[:-1]}x") is None
    assert referral_code_resolve(value) is None
    assert referral_code_resolve("") is None and referral_code_resolve("x" * 500) is None
