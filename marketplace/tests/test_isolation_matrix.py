"""Every vendor dashboard URL and every vendor API endpoint, tried as another shop's owner,
as a plain buyer, as a staff member without the role, and anonymously: all refused, and shop A's
data neither shown nor changed. The URL list is read from the URL resolver, so a new dashboard
page or vendor endpoint is covered the day it is added."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver
from PIL import Image

from catalog.models import Product, ProductImage, ProductVariant
from catalog.tests.factories import ProductFactory, VariantFactory
from orders.models import Coupon, VendorOrder
from orders.tests.coupon_factories import CouponFactory
from orders.tests.fulfilment_factories import placed_order
from vendors.models import ShippingTemplate, VendorMember

VENDOR_PREFIXES = ("dashboard/", "api/v1/vendor/")
PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
# The pages every member of a shop may open, whatever the role; the rest need a permission.
ROLE_FREE = {"dashboard/", "dashboard/switch/", "api/v1/vendor/shops/"}


def vendor_routes() -> list[str]:
    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                yield route

    routes = sorted({route for route in walk(get_resolver().url_patterns) if route.startswith(VENDOR_PREFIXES)})
    assert len(routes) > 20, routes  # the matrix must not silently shrink to nothing
    return routes


@pytest.fixture
def shop_a_world(shop_a, owner_a, buyer):
    product = ProductFactory(vendor=shop_a, title="Secret Oolong of shop A")
    variant = VariantFactory(product=product, sku="A-SECRET-1", stock=7, price="88.00")
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10), "blue").save(buffer, "PNG")
    image = ProductImage.objects.create(product=product, image=SimpleUploadedFile("a.png", buffer.getvalue()))
    order = placed_order(buyer=buyer, items={shop_a: [(variant, 1)]})
    vendor_order = order.vendor_orders.get()
    VendorOrder.objects.filter(pk=vendor_order.pk).update(status=VendorOrder.Status.PAID)
    template = ShippingTemplate.objects.filter(vendor=shop_a).first()
    member = VendorMember.objects.get(vendor=shop_a, user=owner_a)
    coupon = CouponFactory(vendor=shop_a, code="A-SECRET-COUPON", name="Shop A secret coupon")
    values = {
        "product_id": product.pk,
        "variant_id": variant.pk,
        "image_id": image.pk,
        "number": vendor_order.number,
        "order_number": vendor_order.number,
        "member_id": member.pk,
        "template_id": template.pk,
        "coupon_id": coupon.pk,
        "pk": product.pk,
        "id": product.pk,
    }
    secrets = ["Secret Oolong of shop A", "A-SECRET-1", vendor_order.number, owner_a.email, "A-SECRET-COUPON"]
    return values, secrets


def fill(route: str, values: dict) -> str:
    def replace(match):
        name = match.group("name")
        assert name in values, f"the isolation matrix does not know how to fill <{name}> in {route}"
        return str(values[name])

    return "/" + PARAM.sub(replace, route)


def snapshot(shop) -> tuple:
    return (
        sorted(Product.objects.filter(vendor=shop).values_list("id", "title", "status", "is_banned")),
        sorted(ProductVariant.objects.filter(vendor=shop).values_list("id", "sku", "price", "stock", "is_active")),
        sorted(ProductImage.objects.filter(product__vendor=shop).values_list("id", "image")),
        sorted(VendorOrder.objects.filter(vendor=shop).values_list("id", "status", "tracking_number")),
        sorted(VendorMember.objects.filter(vendor=shop).values_list("id", "user_id", "role")),
        sorted(ShippingTemplate.objects.filter(vendor=shop).values_list("id", "name", "is_active", "base_fee")),
        sorted(Coupon.objects.filter(vendor=shop).values_list("id", "code", "is_active", "value")),
    )


def attempt(client, url: str, method: str, headers: dict | None = None):
    data = {
        "status": "active",
        "stock": "0",
        "carrier": "SF",
        "tracking_number": "X1",
        "role": "owner",
        "name": "pwned",
    }
    if method == "get":
        return client.get(url, headers=headers or {})
    if url.startswith("/api/"):
        return getattr(client, method)(url, data, content_type="application/json", headers=headers or {})
    return client.post(url, data, headers=headers or {})


def assert_refused(response, *, url: str, secrets: list[str], may_list_own: bool):
    status = response.status_code
    assert status != 500, f"{url} crashed"
    if status in (401, 403, 404, 405):
        return
    if status in (301, 302, 303):
        location = response.headers["Location"]
        assert "/accounts/login/" in location or "/sell/apply/" in location or location.startswith("/dashboard/"), (
            f"{url} redirected to {location}"
        )
        return
    # A page of one's own dashboard (a list) is fine, as long as nothing of shop A is in it.
    assert may_list_own, f"{url} answered {status} to an outsider"
    body = response.content.decode()
    for secret in secrets:
        assert secret not in body, f"{url} showed {secret!r} of shop A to an outsider"


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_other_shop_owner_buyer_and_anonymous_are_refused_everywhere(
    client, method, shop_a_world, shop_a, shop_b, owner_b, buyer
):
    values, secrets = shop_a_world
    before = snapshot(shop_a)
    actors = {"anonymous": None, "buyer": buyer, "owner of shop B": owner_b}
    for label, actor in actors.items():
        client.logout()
        if actor is not None:
            client.force_login(actor)
        for route in vendor_routes():
            url = fill(route, values)
            if method in ("patch", "delete") and not url.startswith("/api/"):
                continue
            has_ids = "<" in route
            response = attempt(client, url, method)
            assert_refused(
                response,
                url=f"{method.upper()} {url} as {label}",
                secrets=secrets,
                may_list_own=(actor is not None and not has_ids),
            )
            if url.startswith("/api/"):
                # Naming shop A explicitly does not help.
                response = attempt(client, url, method, headers={"X-Vendor": str(shop_a.pk)})
                assert_refused(
                    response,
                    url=f"{method.upper()} {url} X-Vendor=A as {label}",
                    secrets=secrets,
                    may_list_own=(actor is not None and not has_ids),
                )
    assert snapshot(shop_a) == before, "an outsider changed shop A's data"


@pytest.mark.django_db
def test_switching_to_a_shop_one_does_not_staff_is_refused(client, shop_a_world, shop_a, owner_b):
    _, secrets = shop_a_world
    client.force_login(owner_b)
    client.post("/dashboard/switch/", {"vendor": shop_a.pk})
    for url in ("/dashboard/products/", "/dashboard/orders/", "/dashboard/"):
        body = client.get(url).content.decode()
        for secret in secrets:
            assert secret not in body


@pytest.mark.django_db
def test_staff_role_cannot_open_product_shipping_staff_or_shop_pages(client, shop_a_world, staff_a, shop_a):
    values, _ = shop_a_world
    before = snapshot(shop_a)
    client.force_login(staff_a)
    refused = 0
    for route in vendor_routes():
        if route in ROLE_FREE or "orders" in route:
            continue
        url = fill(route, values)
        for method in ("get", "post"):
            response = attempt(client, url, method)
            assert response.status_code in (403, 404, 405), f"{method} {url} as staff role -> {response.status_code}"
            refused += 1
    assert refused > 20
    assert snapshot(shop_a) == before


@pytest.mark.django_db
def test_buyer_cannot_read_or_act_on_another_buyers_order(client, shop_a_world, other_buyer, buyer, shop_a):
    values, _ = shop_a_world
    order_number = VendorOrder.objects.get(number=values["number"]).order.number
    client.force_login(other_buyer)
    for url in (f"/orders/{order_number}/", f"/api/v1/orders/{order_number}/", f"/payments/start/{order_number}/"):
        assert client.get(url).status_code == 404, url
    for url in (f"/orders/{order_number}/cancel/", f"/api/v1/orders/{order_number}/cancel/"):
        assert client.post(url).status_code == 404, url
    assert VendorOrder.objects.get(number=values["number"]).status == VendorOrder.Status.PAID
