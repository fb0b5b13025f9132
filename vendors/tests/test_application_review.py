"""An admin reviews Li Lei's application in Django admin: approve opens the shop, reject
needs a reason; Li Lei hears about it in-app and by e-mail (sent by the worker after commit)."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from marketplace.models import AuditEvent, Notification
from vendors.errors import ApplicationDecided, ReasonRequired
from vendors.models import Role, ShippingTemplate, Vendor, VendorApplication, VendorMember
from vendors.services import vendor_application_approve, vendor_application_reject

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/vendors/vendorapplication/"


def _approve_in_admin(client, application):
    return client.post(CHANGELIST, {"action": "approve_applications", ACTION_CHECKBOX_NAME: [application.pk]})


def test_approval_opens_the_shop_with_owner_and_default_template(
    client, admin_user, buyer, submitted_application, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = _approve_in_admin(client, submitted_application)
    assert response.status_code == 302

    submitted_application.refresh_from_db()
    vendor = Vendor.objects.get(slug="bamboo-crafts")
    assert submitted_application.status == VendorApplication.Status.APPROVED
    assert submitted_application.vendor == vendor
    assert submitted_application.reviewed_by == admin_user
    assert (vendor.name, vendor.name_en, vendor.contact_email, vendor.status) == (
        "Bamboo Crafts 竹艺",
        "Bamboo Crafts 竹艺",
        "wang.fang@example.com",
        "active",
    )
    assert list(VendorMember.objects.filter(vendor=vendor).values_list("user", "role")) == [(buyer.pk, Role.OWNER)]
    template = ShippingTemplate.objects.get(vendor=vendor)
    assert template.is_default and template.is_active

    notification = Notification.objects.get(user=buyer, kind="vendor_application_approved")
    assert "Bamboo Crafts" in notification.title
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [buyer.email]
    assert "Bamboo Crafts" in mailoutbox[0].subject
    assert AuditEvent.objects.filter(action="vendor_application.approved", actor=admin_user).count() == 1


def test_approving_twice_opens_one_shop(admin_user, buyer, submitted_application):
    first = vendor_application_approve(application=submitted_application, actor=admin_user)
    second = vendor_application_approve(application=submitted_application, actor=admin_user)
    assert first == second
    assert Vendor.objects.filter(slug="bamboo-crafts").count() == 1
    assert VendorMember.objects.filter(user=buyer).count() == 1
    assert ShippingTemplate.objects.filter(vendor=first).count() == 1
    assert Notification.objects.filter(user=buyer, kind="vendor_application_approved").count() == 1


def test_approving_twice_from_admin_is_harmless(client, admin_user, submitted_application):
    client.force_login(admin_user)
    _approve_in_admin(client, submitted_application)
    _approve_in_admin(client, submitted_application)
    assert Vendor.objects.filter(slug="bamboo-crafts").count() == 1


def test_new_owner_reaches_the_dashboard(client, admin_user, buyer, submitted_application):
    vendor = vendor_application_approve(application=submitted_application, actor=admin_user)
    client.force_login(buyer)
    response = client.get("/dashboard/shipping/")
    assert response.status_code == 200
    assert response.wsgi_request.vendor == vendor


def test_reject_asks_for_a_reason_first(client, admin_user, submitted_application):
    client.force_login(admin_user)
    data = {"action": "reject_applications", ACTION_CHECKBOX_NAME: [submitted_application.pk]}

    ask = client.post(CHANGELIST, data)
    assert ask.status_code == 200
    assert 'name="reason"' in ask.content.decode()

    blank = client.post(CHANGELIST, {**data, "apply": "1", "reason": "   "})
    assert blank.status_code == 200
    assert "required" in blank.content.decode()
    submitted_application.refresh_from_db()
    assert submitted_application.status == VendorApplication.Status.SUBMITTED


def test_rejection_with_reason_notifies_the_applicant(
    client, admin_user, buyer, submitted_application, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    data = {
        "action": "reject_applications",
        ACTION_CHECKBOX_NAME: [submitted_application.pk],
        "apply": "1",
        "reason": "The licence scan is unreadable.",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CHANGELIST, data)
    assert response.status_code == 302

    submitted_application.refresh_from_db()
    assert submitted_application.status == VendorApplication.Status.REJECTED
    assert submitted_application.decision_reason == "The licence scan is unreadable."
    assert not Vendor.objects.filter(slug="bamboo-crafts").exists()
    notification = Notification.objects.get(user=buyer, kind="vendor_application_rejected")
    assert "unreadable" in notification.body
    assert len(mailoutbox) == 1 and "unreadable" in mailoutbox[0].body
    assert AuditEvent.objects.get(action="vendor_application.rejected").data == {
        "reason": "The licence scan is unreadable."
    }

    client.force_login(buyer)
    page = client.get("/sell/apply/").content.decode()
    assert "Rejected" in page and "unreadable" in page
    assert "Send application" in page  # may apply again


def test_reject_service_requires_a_reason(admin_user, submitted_application):
    with pytest.raises(ReasonRequired):
        vendor_application_reject(application=submitted_application, actor=admin_user, reason=" ")
    submitted_application.refresh_from_db()
    assert submitted_application.status == VendorApplication.Status.SUBMITTED


def test_a_decided_application_cannot_be_decided_the_other_way(admin_user, submitted_application):
    vendor_application_reject(application=submitted_application, actor=admin_user, reason="No licence")
    with pytest.raises(ApplicationDecided):
        vendor_application_approve(application=submitted_application, actor=admin_user)
    assert not Vendor.objects.exists()


def test_admin_opens_a_document_but_the_public_cannot(client, admin_user, buyer, submitted_application):
    document = submitted_application.documents.get()
    url = f"{CHANGELIST}{submitted_application.pk}/documents/{document.pk}/"

    client.force_login(buyer)
    assert client.get(url).status_code == 302  # admin log-in page
    client.force_login(admin_user)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert client.get(f"{CHANGELIST}{submitted_application.pk + 1}/documents/{document.pk}/").status_code == 404

    change = client.get(f"{CHANGELIST}{submitted_application.pk}/change/").content.decode()
    assert url in change


def test_documents_are_stored_outside_the_public_media_folder(client, settings, submitted_application):
    from pathlib import Path

    document = submitted_application.documents.get()
    stored = Path(document.file.path).resolve()
    assert not stored.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert stored.is_file()
    assert client.get(settings.MEDIA_URL + document.file.name).status_code == 404


def test_reviewer_decides_from_the_application_page(client, admin_user, buyer, submitted_application, other_buyer):
    from vendors.services import vendor_application_submit
    from vendors.tests.helpers import application_form

    client.force_login(admin_user)
    decide = f"{CHANGELIST}{submitted_application.pk}/decide/"
    assert decide in client.get(f"{CHANGELIST}{submitted_application.pk}/change/").content.decode()
    page = client.get(decide).content.decode()
    assert "91350100M000100Y43" in page and "licence.pdf" in page

    client.post(decide, {"_reject": "1", "reason": ""})
    submitted_application.refresh_from_db()
    assert submitted_application.status == VendorApplication.Status.SUBMITTED

    client.post(decide, {"_approve": "1"})
    submitted_application.refresh_from_db()
    assert submitted_application.status == VendorApplication.Status.APPROVED
    assert Vendor.objects.filter(slug="bamboo-crafts").exists()

    other = vendor_application_submit(applicant=other_buyer, **application_form(slug="silk-road"))
    client.post(f"{CHANGELIST}{other.pk}/decide/", {"_reject": "1", "reason": "Documents expired"})
    other.refresh_from_db()
    assert (other.status, other.decision_reason) == ("rejected", "Documents expired")


def test_non_staff_cannot_open_the_review_page(client, buyer, submitted_application):
    client.force_login(buyer)
    response = client.post(f"{CHANGELIST}{submitted_application.pk}/decide/", {"_approve": "1"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not Vendor.objects.exists()
