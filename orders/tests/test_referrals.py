"""Referral links end to end: a signed-in user's product page offers a link with ?ref=; whoever
follows it and buys the product places an order line naming the sharer as its referrer, with
the product's referral rate frozen (at most the platform maximum). Nobody refers themselves."""

import re
from decimal import Decimal

import pytest

from catalog.models import Product
from catalog.referrals import referral_code_for
from catalog.tests.factories import VariantFactory
from orders.models import Cart, CartLine, OrderLine
from orders.tests.factories import AddressFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tea(shop_a):
    variant = VariantFactory(product__vendor=shop_a, product__slug="longjing", sku="TEA-1", price="45.00", stock=20)
    Product.objects.filter(pk=variant.product_id).update(referral_rate=Decimal("0.0500"))
    return variant


@pytest.fixture
def cup(shop_a):
    return VariantFactory(product__vendor=shop_a, product__slug="tea-cup", sku="CUP-1", price="5.00", stock=20)


def buy(client, buyer, *variants) -> OrderLine:
    """Adds each variant from its product page's form, then places the order."""
    for variant in variants:
        client.post("/cart/add/", {"variant": variant.pk, "quantity": "1", "next": "/cart/"})
    address = AddressFactory(user=buyer)
    response = client.post("/checkout/", {"address": address.pk})
    assert response.status_code == 302 and response.url.startswith("/payments/start/"), response
    return {line.sku: line for line in OrderLine.objects.filter(vendor_order__order__buyer=buyer)}


def test_a_shared_product_link_makes_the_sharer_the_referrer_of_the_order_line(client, buyer, other_buyer, tea):
    client.force_login(other_buyer)
    page = client.get("/p/longjing/").content.decode()
    link = re.search(r'value="http://testserver(/p/longjing/\?ref=[^"]+)"', page).group(1)
    assert "you earn 5% of what your friends pay" in page

    client.force_login(buyer)
    assert client.get(link).status_code == 200
    lines = buy(client, buyer, tea)

    assert lines["TEA-1"].referrer == other_buyer
    assert lines["TEA-1"].referral_rate == Decimal("0.0500")


def test_following_ones_own_link_earns_nothing(client, buyer, tea):
    client.force_login(buyer)
    client.get(f"/p/longjing/?ref={referral_code_for(buyer)}")

    lines = buy(client, buyer, tea)

    assert lines["TEA-1"].referrer is None


def test_the_frozen_rate_is_at_most_the_platform_maximum(client, buyer, other_buyer, tea, settings):
    Product.objects.filter(pk=tea.product_id).update(referral_rate=Decimal("0.3000"))
    settings.REFERRAL_RATE_MAX = Decimal("0.2000")
    client.force_login(buyer)
    client.get(f"/p/longjing/?ref={referral_code_for(other_buyer)}")

    lines = buy(client, buyer, tea)

    assert (lines["TEA-1"].referrer, lines["TEA-1"].referral_rate) == (other_buyer, Decimal("0.2000"))
    # Later changes to the product do not change the placed order.
    Product.objects.filter(pk=tea.product_id).update(referral_rate=Decimal("0.0100"))
    assert OrderLine.objects.get(pk=lines["TEA-1"].pk).referral_rate == Decimal("0.2000")


def test_a_link_refers_only_the_product_it_was_shared_for(client, buyer, other_buyer, tea, cup):
    client.force_login(buyer)
    client.get(f"/p/longjing/?ref={referral_code_for(other_buyer)}")

    lines = buy(client, buyer, tea, cup)

    assert lines["TEA-1"].referrer == other_buyer
    assert lines["CUP-1"].referrer is None


def test_a_forged_code_is_ignored(client, buyer, other_buyer, tea):
    forged = referral_code_for(other_buyer).partition("-")[0] + "-AAAAAAAAAAAAAAAA"
    client.force_login(buyer)
    assert client.get(f"/p/longjing/?ref={forged}").status_code == 200

    lines = buy(client, buyer, tea)

    assert lines["TEA-1"].referrer is None


def test_a_visitors_referral_survives_logging_in_with_the_page_cache_on(
    client, buyer, other_buyer, password, tea, settings
):
    settings.PAGE_CACHE_ENABLED = True
    link = f"/p/longjing/?ref={referral_code_for(other_buyer)}"
    for _ in range(3):  # a page others have visited: in the cache
        client.get("/p/longjing/")
    client.cookies.clear()

    response = client.get(link)
    assert response.status_code == 200
    assert client.get(link)["X-Page-Cache"] == "miss"  # a page that remembered a referral is never stored
    client.post("/cart/add/", {"variant": tea.pk, "quantity": "1"})
    assert CartLine.objects.get(cart__session_key__isnull=False).referrer == other_buyer

    client.post("/accounts/login/", {"login": buyer.email, "password": password})
    assert Cart.objects.get(user=buyer).lines.get().referrer == other_buyer
    lines = buy(client, buyer)

    assert lines["TEA-1"].referrer == other_buyer


def test_visitors_and_products_without_a_rate_get_no_share_link(client, buyer, tea, cup):
    assert 'data-testid="referral-link"' not in client.get("/p/longjing/").content.decode()
    client.force_login(buyer)
    assert 'data-testid="referral-link"' in client.get("/p/longjing/").content.decode()
    assert 'data-testid="referral-link"' not in client.get("/p/tea-cup/").content.decode()
