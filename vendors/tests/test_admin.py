"""The admin pages for shops and for the kernel's people, notifications and audit trail."""

import pytest

from marketplace.models import AuditEvent, Notification, User
from marketplace.services import audit_record, notification_send

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "/admin/vendors/vendor/",
    "/admin/vendors/vendorapplication/",
    "/admin/vendors/vendormember/",
    "/admin/vendors/shippingtemplate/",
    "/admin/marketplace/user/",
    "/admin/marketplace/notification/",
    "/admin/marketplace/auditevent/",
]


@pytest.mark.parametrize("url", CHANGELISTS)
def test_changelists_open_with_filters_and_search(client, admin_user, owner_a, submitted_application, url):
    notification_send(user=owner_a, kind="test", title="Hello", email=False)
    client.force_login(admin_user)
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "tea"}).status_code == 200


def test_shop_change_page_shows_staff_and_templates(client, admin_user, shop_a, owner_a):
    client.force_login(admin_user)
    page = client.get(f"/admin/vendors/vendor/{shop_a.pk}/change/").content.decode()
    assert owner_a.email in page or str(owner_a) in page
    assert "name_zh_hans" in page


def test_admin_creates_a_user_with_email_only(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/admin/marketplace/user/add/",
        {
            "email": "new.seller@example.com",
            "usable_password": "true",
            "password1": "Xq9!long-pass",
            "password2": "Xq9!long-pass",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new.seller@example.com")
    assert user.check_password("Xq9!long-pass")


def test_audit_trail_and_notifications_are_read_only(client, admin_user, buyer):
    event = audit_record(actor=admin_user, action="test.done", obj=buyer)
    notification = notification_send(user=buyer, kind="test", title="Hi", email=False)
    client.force_login(admin_user)
    assert client.get("/admin/marketplace/auditevent/add/").status_code == 403
    assert client.post(f"/admin/marketplace/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/marketplace/notification/{notification.pk}/change/", {"title": "x"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert Notification.objects.get(pk=notification.pk).title == "Hi"


def test_applications_cannot_be_added_by_hand(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/admin/vendors/vendorapplication/add/").status_code == 403
