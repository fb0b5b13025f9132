"""Coupons as buyers meet them: the code field of the cart and checkout pages, discounts shown
per line and in the totals, clear reasons for codes that do not apply, claim buttons on the
shop page, claimed coupons offered at checkout, and the API's checkout."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from catalog.tests.factories import VariantFactory
from orders.models import CouponClaim, Order, OrderLine
from orders.services.cart import cart_add_line, cart_get_or_create
from orders.tests.coupon_factories import CouponFactory
from orders.tests.factories import AddressFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tea(shop_a):
    return VariantFactory(product__vendor=shop_a, product__title="Longjing green tea", sku="TEA-1", price="45.00")


@pytest.fixture
def ball(shop_b):
    return VariantFactory(product__vendor=shop_b, product__title="Basketball", sku="BALL-1", price="120.00")


@pytest.fixture
def filled_cart(buyer, tea, ball):
    cart = cart_get_or_create(user=buyer, session_key=None)
    cart_add_line(cart=cart, variant_id=tea.pk, quantity=1)
    cart_add_line(cart=cart, variant_id=ball.pk, quantity=1)
    return cart


@pytest.fixture
def address(buyer):
    return AddressFactory(user=buyer)


@pytest.fixture
def signed_in(client, buyer):
    client.force_login(buyer)
    return client


def test_cart_page_offers_a_coupon_code_field_that_leads_to_checkout(signed_in, filled_cart):
    html = signed_in.get("/cart/").content.decode()
    assert 'data-testid="cart-coupon-form"' in html and 'action="/checkout/"' in html
    assert 'name="coupon"' in html


def test_checkout_shows_the_discount_per_line_and_in_the_totals(signed_in, filled_cart, address, shop_a):
    CouponFactory(vendor=shop_a, code="TEA5", value="5.00", name="Tea House welcome")
    CouponFactory(code="SHEQUN", value="16.50", name="Shequn spring")

    html = signed_in.get("/checkout/?coupon=tea5+sheQun").content.decode()

    # 16.50 over what is left: 40.00 of tea and 120.00 of ball -> 4.125 and 12.375: 4.13 and 12.37.
    assert "Shop coupon −¥5.00" in html
    assert "Platform coupon −¥4.13" in html and "Platform coupon −¥12.37" in html
    assert html.count('data-testid="applied-coupon"') == 2
    assert "Tea House welcome" in html and "Shequn spring" in html
    assert '<span data-testid="discount-total">−¥21.50</span>' in html
    # 45 + 10 shipping + 120 + 12 shipping - 21.50
    assert '<span class="price" data-testid="grand-total">¥165.50</span>' in html
    assert 'value="TEA5 SHEQUN"' in html  # the codes stay in the field
    assert 'data-testid="coupon-error"' not in html


def test_checkout_explains_codes_that_do_not_apply_and_keeps_the_others(signed_in, filled_cart, address, shop_a):
    CouponFactory(vendor=shop_a, code="TEA5", value="5.00")
    CouponFactory(code="BIGSPEND", min_spend="500.00")  # the platform's

    html = signed_in.get("/checkout/?coupon=TEA5&coupon=NOSUCH&coupon=BIGSPEND").content.decode()

    assert "There is no coupon NOSUCH." in html
    # A platform coupon's spend is counted after the shop coupons: 40.00 + 120.00.
    assert "The coupon BIGSPEND needs ¥500.00 of eligible items; you have ¥160.00." in html
    assert html.count('data-testid="coupon-error"') == 2
    assert "Shop coupon −¥5.00" in html
    assert 'value="TEA5"' in html  # the codes that failed are taken out of the field
    assert '<span class="price" data-testid="grand-total">¥182.00</span>' in html


def test_checkout_explains_two_coupons_of_one_shop(signed_in, filled_cart, address, shop_a):
    CouponFactory(vendor=shop_a, code="TEA5", value="5.00")
    CouponFactory(vendor=shop_a, code="TEA8", value="8.00")

    html = signed_in.get("/checkout/?coupon=TEA5+TEA8").content.decode()

    assert (
        "The coupon TEA8 cannot be combined with TEA5: one coupon per shop and one platform coupon per order." in html
    )
    assert "Shop coupon −¥5.00" in html and "−¥8.00" not in html


def test_placing_with_a_coupon_charges_the_discounted_total(signed_in, buyer, filled_cart, address, shop_a):
    CouponFactory(vendor=shop_a, code="TEA5", value="5.00")

    response = signed_in.post("/checkout/", {"address": address.pk, "coupon": "tea5"})

    order = Order.objects.get(buyer=buyer)
    assert response.status_code == 302 and response.url == f"/payments/start/{order.number}/"
    assert (order.discount_total, order.grand_total) == (Decimal("5.00"), Decimal("182.00"))
    assert OrderLine.objects.get(sku="TEA-1").shop_discount == Decimal("5.00")
    html = signed_in.get(f"/orders/{order.number}/").content.decode()
    assert "Shop coupon −¥5.00" in html and '<span data-testid="order-discount">−¥5.00</span>' in html
    assert '<span class="price" data-testid="order-total">¥182.00</span>' in html


def test_placing_with_a_used_up_code_says_so_and_places_nothing(signed_in, buyer, filled_cart, address, shop_a):
    CouponFactory(vendor=shop_a, code="GONE", total_limit=3, used_count=3)

    response = signed_in.post("/checkout/", {"address": address.pk, "coupon": "GONE"}, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[0][0].startswith("/checkout/?")
    assert "The coupon GONE has been used up." in response.content.decode()
    assert not Order.objects.exists()


def test_shop_page_lets_a_signed_in_buyer_claim_a_coupon_once(signed_in, buyer, shop_a):
    coupon = CouponFactory(vendor=shop_a, code=None, claimable=True, name="Ten off tea", value="10.00")
    CouponFactory(vendor=shop_a, code="HIDDEN", claimable=False, name="Not on the page")

    html = signed_in.get("/s/tea-house/").content.decode()
    assert "Ten off tea" in html and 'data-testid="claim-coupon"' in html
    assert "Not on the page" not in html

    response = signed_in.post(f"/coupons/{coupon.pk}/claim/", {"next": "/s/tea-house/"}, follow=True)

    assert response.redirect_chain[-1][0] == "/s/tea-house/"
    html = response.content.decode()
    assert "The coupon is yours: choose it at checkout." in html
    assert 'data-testid="coupon-claimed"' in html and 'data-testid="claim-coupon"' not in html
    assert CouponClaim.objects.filter(coupon=coupon, user=buyer).count() == 1

    again = signed_in.post(f"/coupons/{coupon.pk}/claim/", {"next": "/s/tea-house/"}, follow=True)
    assert "You already have the coupon Ten off tea." in again.content.decode()
    assert CouponClaim.objects.filter(coupon=coupon, user=buyer).count() == 1


def test_visitors_are_asked_to_sign_in_to_claim(client, shop_a):
    coupon = CouponFactory(vendor=shop_a, claimable=True, name="Ten off tea")
    html = client.get("/s/tea-house/").content.decode()
    assert "Ten off tea" in html and 'data-testid="claim-login"' in html
    assert 'data-testid="claim-coupon"' not in html
    response = client.post(f"/coupons/{coupon.pk}/claim/")
    assert response.status_code == 302 and "/accounts/login/" in response.url
    assert not CouponClaim.objects.exists()


def test_another_shops_or_a_platform_coupon_cannot_be_claimed(signed_in, shop_b):
    platform = CouponFactory(claimable=True)
    assert signed_in.post(f"/coupons/{platform.pk}/claim/").status_code == 404
    assert signed_in.post("/coupons/999999/claim/").status_code == 404
    assert not CouponClaim.objects.exists()


def test_claimed_coupons_are_offered_at_checkout_and_apply_when_ticked(
    signed_in, buyer, filled_cart, address, shop_a, tea
):
    coupon = CouponFactory(vendor=shop_a, code=None, claimable=True, name="Claimed tea coupon", value="7.00")
    CouponClaim.objects.create(coupon=coupon, user=buyer)

    html = signed_in.get("/checkout/").content.decode()
    assert 'data-testid="claimed-coupon"' in html and f'value="claim:{coupon.pk}"' in html
    assert "Shop coupon" not in html

    html = signed_in.get(f"/checkout/?coupon=claim:{coupon.pk}").content.decode()
    assert "Shop coupon −¥7.00" in html and "checked" in html

    signed_in.post("/checkout/", {"address": address.pk, "coupon": f"claim:{coupon.pk}"})
    assert Order.objects.get(buyer=buyer).discount_total == Decimal("7.00")
    # Used as often as it allows: no longer offered.
    cart_add_line(cart=cart_get_or_create(user=buyer, session_key=None), variant_id=tea.pk, quantity=1)
    assert f'value="claim:{coupon.pk}"' not in signed_in.get("/checkout/").content.decode()


def test_api_checkout_takes_coupon_codes(buyer, filled_cart, address, shop_a):
    CouponFactory(vendor=shop_a, code="TEA5", value="5.00")
    api = APIClient()
    api.force_authenticate(buyer)

    response = api.post("/api/v1/orders/", {"address": address.pk, "coupon_codes": ["TEA5"]}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["discount_total"], body["grand_total"]) == ("5.00", "182.00")
    shop_part = next(part for part in body["vendor_orders"] if part["vendor"]["slug"] == "tea-house")
    assert (shop_part["shop_discount"], shop_part["platform_discount"], shop_part["total"]) == (
        "5.00",
        "0.00",
        "50.00",
    )
    assert shop_part["lines"][0]["shop_discount"] == "5.00"


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        (None, 400, "coupon_unknown"),
        ({"min_spend": "999.00"}, 400, "coupon_min_spend"),
        ({"total_limit": 1, "used_count": 1}, 409, "coupon_limit_reached"),
    ],
)
def test_api_checkout_answers_a_bad_code_with_a_json_error(buyer, filled_cart, address, shop_a, fields, status, code):
    if fields is not None:
        CouponFactory(vendor=shop_a, code="TEA5", **fields)
    api = APIClient()
    api.force_authenticate(buyer)

    response = api.post("/api/v1/orders/", {"address": address.pk, "coupon_codes": ["TEA5"]}, format="json")

    assert response.status_code == status
    assert response.json()["code"] == code and "TEA5" in response.json()["message"]
    assert not Order.objects.exists()
