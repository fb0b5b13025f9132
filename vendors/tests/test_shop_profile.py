"""Tea House's owner edits the shop's names in English and Chinese, description and images."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from marketplace.models import AuditEvent
from vendors.models import Vendor
from vendors.tests.helpers import media_files, png_file

pytestmark = pytest.mark.django_db


def _form(**overrides) -> dict:
    data = {
        "name_en": "Tea House",
        "name_zh_hans": "茶馆",
        "description_en": "Green tea from Hangzhou.",
        "description_zh_hans": "杭州龙井。",
        "contact_email": "hello@teahouse.example",
        "contact_phone": "0571-8888 6666",
    }
    data.update(overrides)
    return data


def test_owner_saves_bilingual_profile_and_images(client, shop_a, owner_a):
    client.force_login(owner_a)
    response = client.post("/dashboard/shop/", _form(banner=png_file("banner.png", 300, 80), logo=png_file("logo.png")))
    assert response.status_code == 302

    shop = Vendor.objects.get(pk=shop_a.pk)
    assert (shop.name_en, shop.name_zh_hans) == ("Tea House", "茶馆")
    assert (shop.description_en, shop.description_zh_hans) == ("Green tea from Hangzhou.", "杭州龙井。")
    assert shop.contact_email == "hello@teahouse.example"
    assert shop.banner.name.startswith("vendors/banners/") and shop.banner.name.endswith(".png")
    assert shop.logo.name.startswith("vendors/logos/")
    with translation.override("zh-hans"):
        assert Vendor.objects.get(pk=shop_a.pk).name == "茶馆"
    with translation.override("en"):
        assert Vendor.objects.get(pk=shop_a.pk).name == "Tea House"
    event = AuditEvent.objects.get(action="vendor.profile_updated")
    assert {"banner", "logo", "name_zh_hans"} <= set(event.data["fields"])


def test_non_image_banner_is_refused_and_nothing_changes(client, shop_a, owner_a, settings):
    client.force_login(owner_a)
    fake = SimpleUploadedFile("banner.jpg", b"<script>alert(1)</script>", content_type="image/jpeg")
    response = client.post("/dashboard/shop/", _form(name_en="Renamed", banner=fake))
    assert response.status_code == 400
    assert "not an image we can read" in response.content.decode()
    shop = Vendor.objects.get(pk=shop_a.pk)
    assert shop.name_en == "Tea House" and not shop.banner
    assert media_files(settings) == []


def test_english_name_is_required(client, shop_a, owner_a):
    client.force_login(owner_a)
    response = client.post("/dashboard/shop/", _form(name_en=""))
    assert response.status_code == 400
    assert Vendor.objects.get(pk=shop_a.pk).name_en == "Tea House"


def test_manager_cannot_post_the_profile(client, shop_a, manager_a):
    client.force_login(manager_a)
    assert client.post("/dashboard/shop/", _form(name_en="Hijacked")).status_code == 404
    assert Vendor.objects.get(pk=shop_a.pk).name_en == "Tea House"
