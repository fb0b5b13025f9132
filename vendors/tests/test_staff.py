"""Tea House's owner manages the staff; a shop never loses its last owner."""

import pytest

from marketplace.models import AuditEvent, Notification
from vendors.errors import AlreadyMember, LastOwner, NotShopOwner, UserNotRegistered
from vendors.models import Role, VendorMember
from vendors.services import vendor_member_add, vendor_member_change_role, vendor_member_remove

pytestmark = pytest.mark.django_db


def _member(shop, user) -> VendorMember:
    return VendorMember.objects.get(vendor=shop, user=user)


def test_owner_adds_an_existing_account_by_email(client, shop_a, owner_a, buyer):
    client.force_login(owner_a)
    response = client.post("/dashboard/staff/", {"email": "BUYER@example.com", "role": "manager"})
    assert response.status_code == 302
    assert _member(shop_a, buyer).role == Role.MANAGER
    assert Notification.objects.filter(user=buyer, kind="vendor_member_added").exists()
    assert AuditEvent.objects.filter(action="vendor_member.added", actor=owner_a).exists()
    assert buyer.email in client.get("/dashboard/staff/").content.decode()


def test_adding_an_unknown_email_or_a_member_twice_shows_a_clear_error(client, shop_a, owner_a, staff_a):
    client.force_login(owner_a)
    unknown = client.post("/dashboard/staff/", {"email": "nobody@example.com", "role": "staff"})
    assert unknown.status_code == 400
    assert "No account uses nobody@example.com" in unknown.content.decode()
    twice = client.post("/dashboard/staff/", {"email": staff_a.email, "role": "manager"})
    assert twice.status_code == 400
    assert "already on this shop" in twice.content.decode()
    assert _member(shop_a, staff_a).role == Role.STAFF
    assert VendorMember.objects.filter(vendor=shop_a).count() == 2


def test_owner_changes_a_role(client, shop_a, owner_a, staff_a):
    member = _member(shop_a, staff_a)
    client.force_login(owner_a)
    client.post(f"/dashboard/staff/{member.pk}/role/", {"role": "manager"})
    member.refresh_from_db()
    assert member.role == Role.MANAGER
    assert AuditEvent.objects.get(action="vendor_member.role_changed").data["to"] == "manager"
    # the new manager now reaches the shipping page
    client.force_login(staff_a)
    assert client.get("/dashboard/shipping/").status_code == 200


def test_owner_removes_a_member(client, shop_a, owner_a, manager_a):
    client.force_login(owner_a)
    client.post(f"/dashboard/staff/{_member(shop_a, manager_a).pk}/remove/")
    assert not VendorMember.objects.filter(user=manager_a).exists()
    client.force_login(manager_a)
    assert client.get("/dashboard/shipping/").status_code == 404


def test_last_owner_cannot_be_demoted_or_removed(client, shop_a, owner_a):
    member = _member(shop_a, owner_a)
    client.force_login(owner_a)

    demote = client.post(f"/dashboard/staff/{member.pk}/role/", {"role": "staff"}, follow=True)
    assert "A shop needs at least one owner" in demote.content.decode()
    remove = client.post(f"/dashboard/staff/{member.pk}/remove/", follow=True)
    assert "A shop needs at least one owner" in remove.content.decode()

    member.refresh_from_db()
    assert member.role == Role.OWNER
    with pytest.raises(LastOwner):
        vendor_member_change_role(member=member, actor=owner_a, role=Role.MANAGER)
    with pytest.raises(LastOwner):
        vendor_member_remove(member=member, actor=owner_a)


def test_with_a_second_owner_the_first_may_step_down(client, shop_a, owner_a, manager_a):
    vendor_member_change_role(member=_member(shop_a, manager_a), actor=owner_a, role=Role.OWNER)
    client.force_login(owner_a)
    response = client.post(f"/dashboard/staff/{_member(shop_a, owner_a).pk}/remove/")
    assert response.status_code == 302 and response["Location"] == "/dashboard/switch/"
    assert list(VendorMember.objects.filter(vendor=shop_a).values_list("user", "role")) == [(manager_a.pk, "owner")]


def test_services_check_the_actor_too(shop_a, owner_a, manager_a, staff_a, owner_b, buyer):
    with pytest.raises(NotShopOwner):
        vendor_member_add(vendor=shop_a, actor=manager_a, email=buyer.email, role=Role.OWNER)
    with pytest.raises(NotShopOwner):
        vendor_member_add(vendor=shop_a, actor=owner_b, email=buyer.email, role=Role.OWNER)
    with pytest.raises(NotShopOwner):
        vendor_member_change_role(member=_member(shop_a, staff_a), actor=manager_a, role=Role.OWNER)
    with pytest.raises(NotShopOwner):
        vendor_member_remove(member=_member(shop_a, owner_a), actor=owner_b)
    assert VendorMember.objects.filter(vendor=shop_a).count() == 3
    assert _member(shop_a, staff_a).role == Role.STAFF


def test_service_errors_carry_codes(shop_a, owner_a, staff_a):
    with pytest.raises(UserNotRegistered) as unknown:
        vendor_member_add(vendor=shop_a, actor=owner_a, email="ghost@example.com", role=Role.STAFF)
    with pytest.raises(AlreadyMember) as twice:
        vendor_member_add(vendor=shop_a, actor=owner_a, email=staff_a.email, role=Role.STAFF)
    assert (unknown.value.code, twice.value.code) == ("user_not_found", "already_member")
