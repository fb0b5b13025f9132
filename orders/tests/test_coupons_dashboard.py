"""Shops keep their own coupons in the dashboard (owners and managers; staff cannot), each shop
only its own; admins keep the platform's coupons in the Django admin."""

from decimal import Decimal

import pytest

from catalog.tests.factories import ProductFactory
from marketplace.models import AuditEvent
from orders.models import Coupon
from orders.tests.coupon_factories import CouponFactory

pytestmark = pytest.mark.django_db


def form_data(**changes) -> dict:
    data = {
        "name": "Spring tea sale",
        "code": "spring-10",
        "kind": "fixed",
        "value": "10.00",
        "max_discount": "",
        "min_spend": "99.00",
        "valid_from": "2030-03-01T00:00",
        "valid_until": "2030-04-01T00:00",
        "total_limit": "100",
        "per_buyer_limit": "1",
    }
    data.update(changes)
    return data


def test_owner_creates_a_shop_coupon(client, owner_a, shop_a):
    tea = ProductFactory(vendor=shop_a, title="Longjing")
    client.force_login(owner_a)

    response = client.post("/dashboard/coupons/new/", form_data(products=[tea.pk], claimable="on"))

    assert response.status_code == 302 and response.url == "/dashboard/coupons/"
    coupon = Coupon.objects.get()
    assert (coupon.funder, coupon.vendor, coupon.code, coupon.kind, coupon.value, coupon.min_spend) == (
        Coupon.Funder.SHOP,
        shop_a,
        "SPRING-10",
        "fixed",
        Decimal("10.00"),
        Decimal("99.00"),
    )
    assert (coupon.total_limit, coupon.per_buyer_limit, coupon.claimable, coupon.currency) == (100, 1, True, "CNY")
    assert list(coupon.products.all()) == [tea]
    assert AuditEvent.objects.filter(action="coupon.created", actor=owner_a, object_id=str(coupon.pk)).exists()
    html = client.get("/dashboard/coupons/").content.decode()
    assert "Spring tea sale" in html and "SPRING-10" in html


def test_manager_may_keep_coupons_but_staff_may_not(client, manager_a, staff_a, shop_a):
    client.force_login(manager_a)
    assert client.get("/dashboard/coupons/").status_code == 200
    assert client.post("/dashboard/coupons/new/", form_data()).status_code == 302

    client.force_login(staff_a)
    coupon = Coupon.objects.get()
    assert client.get("/dashboard/coupons/").status_code == 404
    assert client.post("/dashboard/coupons/new/", form_data(code="STAFF1")).status_code == 404
    assert client.post(f"/dashboard/coupons/{coupon.pk}/deactivate/").status_code == 404
    assert Coupon.objects.get().is_active and Coupon.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"code": "no spaces!"}, "code", "A code has 3 to 32 letters, digits, hyphens or underscores"),
        ({"code": "", "claimable": ""}, "code", "Give the coupon a code, or let buyers claim it"),
        ({"kind": "percent", "value": "150"}, "value", "A percentage is more than 0 and at most 100."),
        ({"value": "0"}, "value", "A coupon takes off more than nothing."),
        ({"value": "9.999"}, "value", "CNY amounts have at most 2 decimals."),
        ({"valid_until": "2030-02-01T00:00"}, "valid_until", "The coupon must end after it starts."),
        ({"min_spend": "lots"}, "min_spend", "Enter an amount."),
    ],
)
def test_bad_coupon_data_is_refused_on_its_field(client, owner_a, shop_a, changes, field, message):
    client.force_login(owner_a)
    response = client.post("/dashboard/coupons/new/", form_data(**changes))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not Coupon.objects.exists()


def test_a_taken_code_is_refused(client, owner_a, shop_b):
    CouponFactory(vendor=shop_b, code="SPRING-10")
    client.force_login(owner_a)
    response = client.post("/dashboard/coupons/new/", form_data())
    assert response.status_code == 400
    assert "The code SPRING-10 is already taken." in response.content.decode()


def test_another_shops_product_cannot_be_chosen(client, owner_a, shop_b):
    foreign = ProductFactory(vendor=shop_b)
    client.force_login(owner_a)
    response = client.post("/dashboard/coupons/new/", form_data(products=[foreign.pk]))
    assert response.status_code == 400 and not Coupon.objects.exists()


def test_owner_deactivates_a_coupon_and_it_is_no_longer_accepted(client, owner_a, shop_a):
    coupon = CouponFactory(vendor=shop_a, code="TEA10")
    client.force_login(owner_a)

    response = client.post(f"/dashboard/coupons/{coupon.pk}/deactivate/")

    assert response.status_code == 302
    coupon.refresh_from_db()
    assert not coupon.is_active
    assert AuditEvent.objects.filter(action="coupon.deactivated", object_id=str(coupon.pk)).exists()


def test_a_shop_sees_and_stops_only_its_own_coupons(client, owner_b, shop_a):
    coupon = CouponFactory(vendor=shop_a, code="SECRET-A", name="Shop A secret")
    platform = CouponFactory(code="PLATFORM-1", name="Platform coupon")
    client.force_login(owner_b)

    html = client.get("/dashboard/coupons/").content.decode()
    assert "SECRET-A" not in html and "PLATFORM-1" not in html
    assert client.post(f"/dashboard/coupons/{coupon.pk}/deactivate/").status_code == 404
    assert client.post(f"/dashboard/coupons/{platform.pk}/deactivate/").status_code == 404
    assert Coupon.objects.filter(is_active=True).count() == 2


def test_admin_creates_a_platform_coupon(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/admin/orders/coupon/add/").status_code == 200

    response = client.post(
        "/admin/orders/coupon/add/",
        {
            "name": "Singles' Day",
            "code": "double11",
            "funder": "platform",
            "kind": "percent",
            "value": "11.00",
            "max_discount": "50.00",
            "min_spend": "0",
            "currency": "CNY",
            "valid_from_0": "2030-11-11",
            "valid_from_1": "00:00:00",
            "valid_until_0": "2030-11-12",
            "valid_until_1": "00:00:00",
            "per_buyer_limit": "1",
            "is_active": "on",
            "redemptions-TOTAL_FORMS": "0",
            "redemptions-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    coupon = Coupon.objects.get()
    assert (coupon.funder, coupon.vendor, coupon.code, coupon.value) == ("platform", None, "DOUBLE11", Decimal("11.00"))
    assert client.get("/admin/orders/coupon/").status_code == 200


def test_admin_cannot_give_a_platform_coupon_a_shop(client, admin_user, shop_a):
    client.force_login(admin_user)
    response = client.post(
        "/admin/orders/coupon/add/",
        {
            "name": "Wrong",
            "code": "WRONG",
            "funder": "platform",
            "vendor": shop_a.pk,
            "kind": "fixed",
            "value": "5.00",
            "min_spend": "0",
            "currency": "CNY",
            "valid_from_0": "2030-11-11",
            "valid_from_1": "00:00:00",
            "valid_until_0": "2030-11-12",
            "valid_until_1": "00:00:00",
            "per_buyer_limit": "1",
            "redemptions-TOTAL_FORMS": "0",
            "redemptions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "A platform coupon belongs to no shop." in response.content.decode()
    assert not Coupon.objects.exists()
