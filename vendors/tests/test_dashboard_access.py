"""Who may open the owner and manager pages of Tea House's dashboard: the matrix of roles,
another shop's owner, a buyer and an anonymous visitor."""

import pytest

from vendors.models import ShippingTemplate, VendorMember

pytestmark = pytest.mark.django_db

PAGES = {
    "staff": "/dashboard/staff/",
    "shipping": "/dashboard/shipping/",
    "shipping_new": "/dashboard/shipping/new/",
    "shop": "/dashboard/shop/",
}
# (user fixture, page) -> expected status. Owners everything; managers shipping; staff nothing here.
EXPECTED = {
    "owner_a": {"staff": 200, "shipping": 200, "shipping_new": 200, "shop": 200},
    "manager_a": {"staff": 404, "shipping": 200, "shipping_new": 200, "shop": 404},
    "staff_a": {"staff": 404, "shipping": 404, "shipping_new": 404, "shop": 404},
    "buyer": {"staff": 404, "shipping": 404, "shipping_new": 404, "shop": 404},
}


@pytest.mark.parametrize("who", list(EXPECTED))
@pytest.mark.parametrize("page", list(PAGES))
def test_role_matrix(client, request, who, page, owner_a, manager_a, staff_a):
    client.force_login(request.getfixturevalue(who))
    assert client.get(PAGES[page]).status_code == EXPECTED[who][page]


@pytest.mark.parametrize("page", list(PAGES))
def test_anonymous_visitor_is_sent_to_log_in(client, page):
    response = client.get(PAGES[page])
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/dashboard/")


def _shop_a_targets(shop_a, manager_a):
    template = ShippingTemplate.objects.get(vendor=shop_a)
    member = VendorMember.objects.get(vendor=shop_a, user=manager_a)
    return template, member


def test_other_shops_owner_cannot_reach_tea_house_records(client, shop_a, owner_a, manager_a, owner_b):
    template, member = _shop_a_targets(shop_a, manager_a)
    client.force_login(owner_b)

    assert client.get(f"/dashboard/shipping/{template.pk}/").status_code == 404
    assert client.post(f"/dashboard/shipping/{template.pk}/", {"name": "Hacked", "base_fee": "0"}).status_code == 404
    assert client.post(f"/dashboard/shipping/{template.pk}/deactivate/").status_code == 404
    assert client.post(f"/dashboard/staff/{member.pk}/role/", {"role": "owner"}).status_code == 404
    assert client.post(f"/dashboard/staff/{member.pk}/remove/").status_code == 404

    template.refresh_from_db()
    member.refresh_from_db()
    assert (template.name, template.is_active, member.role) == ("Standard", True, "manager")


def test_other_shops_owner_sees_only_their_own_lists(client, shop_a, owner_a, manager_a, owner_b, shop_b):
    template_a, _ = _shop_a_targets(shop_a, manager_a)
    client.force_login(owner_b)
    staff_page = client.get("/dashboard/staff/").content.decode()
    assert owner_b.email in staff_page
    assert owner_a.email not in staff_page and manager_a.email not in staff_page
    shipping_page = client.get("/dashboard/shipping/").content.decode()
    assert f"/dashboard/shipping/{template_a.pk}/" not in shipping_page
    template_b = ShippingTemplate.objects.get(vendor=shop_b)
    assert f"/dashboard/shipping/{template_b.pk}/" in shipping_page
    shop_page = client.get("/dashboard/shop/").content.decode()
    assert "Panda Sports" in shop_page and "Tea House" not in shop_page


def test_choosing_another_shop_in_the_session_does_not_open_it(client, shop_a, owner_a, owner_b):
    """A forged session choice falls back to the user's own shop, never the chosen one."""
    from vendors.dashboard import SESSION_KEY

    client.force_login(owner_b)
    session = client.session
    session[SESSION_KEY] = shop_a.pk
    session.save()
    page = client.get("/dashboard/shop/").content.decode()
    assert "Panda Sports" in page and "Tea House" not in page


def test_staff_role_cannot_post_to_owner_actions(client, shop_a, owner_a, manager_a, staff_a):
    template, member = _shop_a_targets(shop_a, manager_a)
    client.force_login(staff_a)
    assert client.post("/dashboard/staff/", {"email": staff_a.email, "role": "owner"}).status_code == 404
    assert client.post(f"/dashboard/staff/{member.pk}/remove/").status_code == 404
    assert client.post(f"/dashboard/shipping/{template.pk}/deactivate/").status_code == 404
    assert VendorMember.objects.get(user=staff_a).role == "staff"
    template.refresh_from_db()
    assert template.is_active
