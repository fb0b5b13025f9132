"""Li Lei, a buyer, applies to open a shop at /sell/apply/."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from marketplace.models import AuditEvent
from vendors.errors import ApplicationAlreadyOpen, SlugTaken
from vendors.models import ApplicationDocument, VendorApplication
from vendors.services import vendor_application_submit
from vendors.tests.helpers import ID_CARD, application_form, media_files, pdf_file, png_file

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get("/sell/apply/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_buyer_applies_with_documents_and_then_sees_the_status(client, buyer):
    client.force_login(buyer)
    assert client.get("/sell/apply/").status_code == 200

    response = client.post("/sell/apply/", application_form(documents=[pdf_file(), png_file()]))

    assert response.status_code == 302
    application = VendorApplication.objects.get()
    assert (application.applicant, application.slug, application.status) == (buyer, "bamboo-crafts", "submitted")
    assert application.licence_number == "91350100M000100Y43"
    documents = list(application.documents.all())
    assert [d.content_type for d in documents] == ["application/pdf", "image/png"]
    assert [d.original_name for d in documents] == ["licence.pdf", "id-card.png"]
    assert all("licence" not in d.file.name for d in documents)  # stored under random names
    assert AuditEvent.objects.filter(action="vendor_application.submitted", object_id=str(application.pk)).exists()

    page = client.get("/sell/apply/").content.decode()
    assert 'data-testid="application-status"' in page
    assert "Submitted" in page and "Bamboo Crafts" in page
    assert "Send application" not in page  # no second form while one is open


def test_individual_may_apply_with_an_id_card_number(client, buyer):
    client.force_login(buyer)
    response = client.post(
        "/sell/apply/",
        application_form(legal_kind="individual", shop_type="individual", licence_number=ID_CARD.lower()),
    )
    assert response.status_code == 302
    assert VendorApplication.objects.get().licence_number == ID_CARD


def test_text_file_posing_as_pdf_is_refused_and_nothing_is_saved(client, buyer, settings):
    client.force_login(buyer)
    fake = SimpleUploadedFile("licence.pdf", b"just some text", content_type="application/pdf")

    response = client.post("/sell/apply/", application_form(documents=[fake]))

    assert response.status_code == 400
    assert "Documents must be a PDF or an image" in response.content.decode()
    assert not VendorApplication.objects.exists()
    assert not ApplicationDocument.objects.exists()
    assert media_files(settings) == []


def test_one_bad_document_among_good_ones_saves_nothing(client, buyer, settings):
    client.force_login(buyer)
    bad = SimpleUploadedFile("scan.png", b"<?php echo 1; ?>", content_type="image/png")
    response = client.post("/sell/apply/", application_form(documents=[pdf_file(), bad]))
    assert response.status_code == 400
    assert "scan.png" in response.content.decode()
    assert not VendorApplication.objects.exists()
    assert media_files(settings) == []


def test_document_count_must_be_one_to_five(client, buyer):
    client.force_login(buyer)
    none = client.post("/sell/apply/", application_form(documents=[]))
    six = client.post("/sell/apply/", application_form(documents=[pdf_file(f"{i}.pdf") for i in range(6)]))
    for response in (none, six):
        assert response.status_code == 400
        assert "Upload between 1 and 5 documents." in response.content.decode()
    assert not VendorApplication.objects.exists()


def test_oversized_document_is_refused(client, buyer, settings):
    settings.DOCUMENT_MAX_BYTES = 1024
    client.force_login(buyer)
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * 2048, content_type="application/pdf")
    response = client.post("/sell/apply/", application_form(documents=[big]))
    assert response.status_code == 400
    assert "too large" in response.content.decode()
    assert not VendorApplication.objects.exists()


def test_slug_of_an_existing_shop_is_refused_with_a_clear_error(client, buyer, shop_a):
    client.force_login(buyer)
    response = client.post("/sell/apply/", application_form(slug="tea-house"))
    assert response.status_code == 400
    assert "The shop address “tea-house” is already taken" in response.content.decode()
    assert not VendorApplication.objects.exists()


def test_slug_held_by_someone_elses_open_application_is_refused(client, buyer, other_buyer):
    vendor_application_submit(applicant=other_buyer, **application_form())
    client.force_login(buyer)
    response = client.post("/sell/apply/", application_form(slug="Bamboo-Crafts"))
    assert response.status_code == 400
    assert "is already taken" in response.content.decode()
    assert VendorApplication.objects.count() == 1


def test_slug_of_a_rejected_application_is_free_again(buyer, other_buyer, admin_user):
    from vendors.services import vendor_application_reject

    first = vendor_application_submit(applicant=other_buyer, **application_form())
    vendor_application_reject(application=first, actor=admin_user, reason="Blurry scan")
    second = vendor_application_submit(applicant=buyer, **application_form())
    assert second.slug == first.slug


def test_a_business_needs_a_valid_credit_code(client, buyer):
    client.force_login(buyer)
    wrong_check = client.post("/sell/apply/", application_form(licence_number="91350100M000100Y44"))
    id_card = client.post("/sell/apply/", application_form(licence_number=ID_CARD))
    for response in (wrong_check, id_card):
        assert response.status_code == 400
        assert "unified social credit code" in response.content.decode()
    assert not VendorApplication.objects.exists()


def test_an_individual_with_a_made_up_number_is_refused(client, buyer):
    client.force_login(buyer)
    response = client.post(
        "/sell/apply/", application_form(legal_kind="individual", licence_number="110105194912310021")
    )
    assert response.status_code == 400
    assert "ID card number, a passport number" in response.content.decode()


def test_only_one_open_application_per_person(client, buyer, submitted_application):
    with pytest.raises(ApplicationAlreadyOpen):
        vendor_application_submit(applicant=buyer, **application_form(slug="another-shop"))

    client.force_login(buyer)
    response = client.post("/sell/apply/", application_form(slug="another-shop"))
    assert response.status_code == 200
    assert "already have a shop application waiting" in response.content.decode()
    assert VendorApplication.objects.count() == 1


def test_service_refuses_a_taken_slug_even_without_the_form(buyer, shop_a):
    with pytest.raises(SlugTaken) as error:
        vendor_application_submit(applicant=buyer, **application_form(slug="tea-house"))
    assert error.value.code == "slug_taken"
