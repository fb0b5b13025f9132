"""Shipping templates: what checkout charges (shipping_quote) and how shops keep them."""

from decimal import Decimal

import pytest

from marketplace.models import AuditEvent
from vendors.errors import ShippingTemplateInvalid
from vendors.models import ShippingTemplate
from vendors.selectors import shipping_templates_for_vendor
from vendors.services import (
    shipping_quote,
    shipping_template_create,
    shipping_template_deactivate,
    shipping_template_update,
)

pytestmark = pytest.mark.django_db


def _template(**fields) -> ShippingTemplate:
    defaults = {"name": "T", "base_fee": Decimal("0.00"), "per_item_fee": Decimal("0.00"), "free_over": None}
    return ShippingTemplate(**{**defaults, **fields})


# --- shipping_quote (no database needed, exact Decimals) ------------------------------------


def test_flat_fee_per_order():
    template = _template(base_fee=Decimal("10.00"))
    assert shipping_quote(template=template, items_total=Decimal("45.50"), item_count=3, region="浙江省") == Decimal(
        "10.00"
    )


def test_fee_per_item_is_added_exactly():
    template = _template(base_fee=Decimal("6.00"), per_item_fee=Decimal("1.10"))
    quote = shipping_quote(template=template, items_total=Decimal("30.00"), item_count=3, region="Beijing")
    assert quote == Decimal("9.30")
    assert str(quote) == "9.30"


def test_free_from_the_threshold_on():
    template = _template(base_fee=Decimal("10.00"), free_over=Decimal("99.00"))
    assert shipping_quote(template=template, items_total=Decimal("98.99"), item_count=1, region="上海") == Decimal(
        "10.00"
    )
    assert shipping_quote(template=template, items_total=Decimal("99.00"), item_count=1, region="上海") == Decimal(
        "0.00"
    )


def test_never_free_without_a_threshold(shop_b):
    template = ShippingTemplate.objects.get(vendor=shop_b)
    assert shipping_quote(template=template, items_total=Decimal("100000.00"), item_count=1, region="") == Decimal(
        "12.00"
    )


def test_excluded_region_gets_no_quote_however_it_is_written():
    template = _template(base_fee=Decimal("10.00"), excluded_regions=["新疆维吾尔自治区", "西藏自治区", "海外"])
    for region in ("新疆维吾尔自治区", "新疆", "Xinjiang", " xinjiang ", "Tibet", "西藏", "海外"):
        assert shipping_quote(template=template, items_total=Decimal("10.00"), item_count=1, region=region) is None
    for region in ("广东省", "Guangdong", ""):
        assert shipping_quote(template=template, items_total=Decimal("10.00"), item_count=1, region=region) == Decimal(
            "10.00"
        )


def test_excluded_region_wins_over_free_shipping():
    template = _template(free_over=Decimal("0.00"), excluded_regions=["香港特别行政区"])
    assert shipping_quote(template=template, items_total=Decimal("500.00"), item_count=2, region="Hong Kong") is None


def test_floats_are_refused():
    with pytest.raises(TypeError):
        shipping_quote(template=_template(), items_total=10.0, item_count=1, region="")


# --- templates kept by the shop -------------------------------------------------------------


def test_selector_returns_active_templates_default_first(shop_a, owner_a):
    default = ShippingTemplate.objects.get(vendor=shop_a)
    express = shipping_template_create(vendor=shop_a, actor=owner_a, name="Express", base_fee=Decimal("20.00"))
    old = shipping_template_create(vendor=shop_a, actor=owner_a, name="Old", base_fee=Decimal("5.00"))
    shipping_template_deactivate(template=old, actor=owner_a)
    assert list(shipping_templates_for_vendor(vendor=shop_a)) == [default, express]


def test_manager_creates_a_template_with_excluded_regions(client, shop_a, manager_a):
    client.force_login(manager_a)
    response = client.post(
        "/dashboard/shipping/new/",
        {
            "name": "Remote areas excluded",
            "base_fee": "8.00",
            "per_item_fee": "2.50",
            "free_over": "",
            "excluded_regions": ["新疆维吾尔自治区", "西藏自治区"],
            "other_regions": "海外， Tibet",
        },
    )
    assert response.status_code == 302
    template = ShippingTemplate.objects.get(vendor=shop_a, name="Remote areas excluded")
    assert (template.base_fee, template.per_item_fee, template.free_over) == (Decimal("8.00"), Decimal("2.50"), None)
    assert template.excluded_regions == ["新疆维吾尔自治区", "西藏自治区", "海外"]  # "Tibet" is the same region
    assert not template.is_default  # the shop already has a default
    assert AuditEvent.objects.filter(action="shipping_template.created", actor=manager_a).exists()

    form = client.get(f"/dashboard/shipping/{template.pk}/").context["form"]
    assert form["excluded_regions"].value() == ["新疆维吾尔自治区", "西藏自治区"]
    assert form["other_regions"].value() == "海外"


def test_bad_amounts_are_form_errors(client, shop_a, owner_a):
    client.force_login(owner_a)
    response = client.post("/dashboard/shipping/new/", {"name": "X", "base_fee": "-1", "per_item_fee": "0.001"})
    assert response.status_code == 400
    assert ShippingTemplate.objects.filter(vendor=shop_a).count() == 1


def test_making_another_template_default_moves_the_default(client, shop_a, owner_a):
    old_default = ShippingTemplate.objects.get(vendor=shop_a)
    client.force_login(owner_a)
    client.post(
        "/dashboard/shipping/new/",
        {"name": "Express", "base_fee": "20.00", "per_item_fee": "0", "is_default": "on"},
    )
    express = ShippingTemplate.objects.get(vendor=shop_a, name="Express")
    old_default.refresh_from_db()
    assert express.is_default and not old_default.is_default
    assert ShippingTemplate.objects.filter(vendor=shop_a, is_default=True).count() == 1


def test_edit_changes_fees(client, shop_a, owner_a):
    template = ShippingTemplate.objects.get(vendor=shop_a)
    client.force_login(owner_a)
    response = client.post(
        f"/dashboard/shipping/{template.pk}/",
        {"name": "Standard", "base_fee": "12.00", "per_item_fee": "1.00", "free_over": "199.00", "is_default": "on"},
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.base_fee, template.per_item_fee, template.free_over) == (
        Decimal("12.00"),
        Decimal("1.00"),
        Decimal("199.00"),
    )


def test_the_default_cannot_simply_be_unset(shop_a, owner_a):
    template = ShippingTemplate.objects.get(vendor=shop_a)
    with pytest.raises(ShippingTemplateInvalid):
        shipping_template_update(
            template=template,
            actor=owner_a,
            name="Standard",
            base_fee=Decimal("10.00"),
            per_item_fee=Decimal("0.00"),
            free_over=None,
            excluded_regions=[],
            is_default=False,
        )
    template.refresh_from_db()
    assert template.is_default


def test_deactivating_the_default_hands_it_to_another_template(client, shop_a, owner_a):
    default = ShippingTemplate.objects.get(vendor=shop_a)
    express = shipping_template_create(vendor=shop_a, actor=owner_a, name="Express", base_fee=Decimal("20.00"))
    client.force_login(owner_a)
    client.post(f"/dashboard/shipping/{default.pk}/deactivate/")
    default.refresh_from_db()
    express.refresh_from_db()
    assert (default.is_active, default.is_default) == (False, False)
    assert express.is_default
    assert list(shipping_templates_for_vendor(vendor=shop_a)) == [express]

    client.post(f"/dashboard/shipping/{default.pk}/activate/")
    default.refresh_from_db()
    assert default.is_active and not default.is_default


def test_staff_of_another_shop_cannot_use_the_service(shop_a, owner_b, staff_a):
    from marketplace.errors import NotFound

    for actor in (owner_b, staff_a):
        with pytest.raises(NotFound):
            shipping_template_create(vendor=shop_a, actor=actor, name="Sneaky", base_fee=Decimal("0.00"))
    assert ShippingTemplate.objects.filter(vendor=shop_a).count() == 1
