"""An admin suspends Tea House: its products leave the market and its staff are told why."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from catalog.selectors import product_visible_qs, variant_orderable_qs
from catalog.tests.factories import ProductFactory, VariantFactory
from marketplace.models import AuditEvent, Notification
from vendors.errors import ReasonRequired
from vendors.models import Vendor
from vendors.services import vendor_reinstate, vendor_suspend

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/vendors/vendor/"


def test_suspended_shop_products_disappear_from_the_market(admin_user, shop_a, shop_b):
    tea = ProductFactory(vendor=shop_a, title="Longjing tea")
    variant = VariantFactory(product=tea)
    ball = ProductFactory(vendor=shop_b, title="Football")
    assert set(product_visible_qs()) == {tea, ball}

    vendor_suspend(vendor=shop_a, actor=admin_user, reason="Counterfeit goods reported")

    assert list(product_visible_qs()) == [ball]
    assert not variant_orderable_qs().filter(pk=variant.pk).exists()
    shop_a.refresh_from_db()
    assert (shop_a.status, shop_a.suspended_reason) == ("suspended", "Counterfeit goods reported")

    vendor_reinstate(vendor=shop_a, actor=admin_user)
    assert set(product_visible_qs()) == {tea, ball}
    assert AuditEvent.objects.filter(object_id=str(shop_a.pk), action__startswith="vendor.").count() == 2


def test_suspension_from_admin_asks_a_reason_and_tells_the_staff(
    client, admin_user, shop_a, owner_a, staff_a, owner_b, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    data = {"action": "suspend_vendors", ACTION_CHECKBOX_NAME: [shop_a.pk]}
    assert 'name="reason"' in client.post(CHANGELIST, data).content.decode()
    client.post(CHANGELIST, {**data, "apply": "1", "reason": ""})
    shop_a.refresh_from_db()
    assert shop_a.status == Vendor.Status.ACTIVE

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CHANGELIST, {**data, "apply": "1", "reason": "Unpaid fees"})
    assert response.status_code == 302
    shop_a.refresh_from_db()
    assert shop_a.status == Vendor.Status.SUSPENDED
    told = set(Notification.objects.filter(kind="vendor_suspended").values_list("user__email", flat=True))
    assert told == {owner_a.email, staff_a.email}
    assert sorted(message.to[0] for message in mailoutbox) == sorted([owner_a.email, staff_a.email])
    assert "Unpaid fees" in mailoutbox[0].body


def test_suspending_twice_changes_nothing_the_second_time(admin_user, shop_a, owner_a):
    vendor_suspend(vendor=shop_a, actor=admin_user, reason="First")
    vendor_suspend(vendor=shop_a, actor=admin_user, reason="Second")
    shop_a.refresh_from_db()
    assert shop_a.suspended_reason == "First"
    assert Notification.objects.filter(kind="vendor_suspended").count() == 1


def test_suspension_needs_a_reason(admin_user, shop_a):
    with pytest.raises(ReasonRequired):
        vendor_suspend(vendor=shop_a, actor=admin_user, reason="")
    shop_a.refresh_from_db()
    assert shop_a.is_active


def test_reinstate_from_admin(client, admin_user, shop_a, owner_a):
    vendor_suspend(vendor=shop_a, actor=admin_user, reason="Check")
    client.force_login(admin_user)
    client.post(CHANGELIST, {"action": "reinstate_vendors", ACTION_CHECKBOX_NAME: [shop_a.pk]})
    shop_a.refresh_from_db()
    assert shop_a.is_active and shop_a.suspended_reason == ""
    assert Notification.objects.filter(user=owner_a, kind="vendor_reinstated").exists()
